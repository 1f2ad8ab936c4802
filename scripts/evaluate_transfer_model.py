"""Evaluate the assembled transfer model (model.keras) on the raw validation images."""

from pathlib import Path

from _rule import run

from dlwf import runtime


def main(snakemake):
    device = runtime.configure_tensorflow(snakemake.threads)
    from dlwf import transfer

    record = transfer.evaluate_transfer(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        model_path=snakemake.input.model,
        head_path=snakemake.input.head,
        history_csv=snakemake.input.history,
        prepared_dir=str(Path(snakemake.input.classes).parent),
        test_features=snakemake.input.test_features,
        base_json=snakemake.input.base,
        raw_files=list(snakemake.input.raw),
        benchmarks={
            "feature_pass_s": snakemake.input.features_benchmark,
            "head_training_s": snakemake.input.head_benchmark,
        },
        metrics_out=snakemake.output.metrics,
        predictions_out=snakemake.output.predictions,
        confusion_out=snakemake.output.confusion,
        device=device,
    )
    timing = record["timing"]
    print(f"validation accuracy {record['metrics']['accuracy']:.4f}, baseline {record['baseline']['accuracy']:.4f}; "
          f"feature pass {timing['feature_pass_s']} s, head training {timing['head_training_s']} s")


run(main, snakemake)
