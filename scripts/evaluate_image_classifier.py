"""Evaluate a saved image classifier (loaded from model.keras) on the validation images."""

from pathlib import Path

from _rule import run

from dlwf import runtime


def main(snakemake):
    device = runtime.configure_tensorflow(snakemake.threads)
    from dlwf import image_evaluation

    record = image_evaluation.evaluate_image_classifier(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        model_path=snakemake.input.model,
        history_csv=snakemake.input.history,
        prepared_dir=str(Path(snakemake.input.classes).parent),
        raw_files=list(snakemake.input.raw),
        metrics_out=snakemake.output.metrics,
        predictions_out=snakemake.output.predictions,
        confusion_out=snakemake.output.confusion,
        device=device,
    )
    print(f"validation accuracy {record['metrics']['accuracy']:.4f}, "
          f"baseline {record['baseline']['accuracy']:.4f}")


run(main, snakemake)
