"""Evaluate a saved classifier (loaded from model.keras) on the test split."""

from _rule import run

from dlwf import runtime


def main(snakemake):
    device = runtime.configure_tensorflow(snakemake.threads)
    from dlwf import experiment

    record = experiment.evaluate_classifier(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        model_path=snakemake.input.model,
        history_csv=snakemake.input.history,
        train_csv=snakemake.input.train,
        test_csv=snakemake.input.test,
        columns_json=snakemake.input.columns,
        raw_files=list(snakemake.input.raw),
        metrics_out=snakemake.output.metrics,
        predictions_out=snakemake.output.predictions,
        confusion_out=snakemake.output.confusion,
        device=device,
    )
    print(f"test accuracy {record['metrics']['accuracy']:.4f}, baseline {record['baseline']['accuracy']:.4f}")


run(main, snakemake)
