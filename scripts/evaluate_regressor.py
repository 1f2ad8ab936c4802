"""Evaluate a saved regressor (loaded from model.keras) and the baseline on train, validation and test."""

from _rule import run

from dlwf import runtime


def main(snakemake):
    device = runtime.configure_tensorflow(snakemake.threads)
    from dlwf import experiment

    record = experiment.evaluate_regressor(
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
        validation_csv=snakemake.input.get("validation"),
        device=device,
    )
    print(f"test RMSE {record['metrics']['rmse']:.4f}, baseline {record['baseline']['rmse']!r}")


run(main, snakemake)
