"""Train the sweep experiment's model for one value; save it, its history and its final validation scores."""

from pathlib import Path

from _rule import run

from dlwf import runtime


def main(snakemake):
    device = runtime.configure_tensorflow(snakemake.threads)  # before Keras is imported
    from dlwf import image_experiment, provenance

    point = snakemake.params.point
    record = image_experiment.train_sweep_point(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        prepared_dir=str(Path(snakemake.input.classes).parent),
        arg=point["arg"],
        value=point["value"],
        model_out=snakemake.output.model,
        history_out=snakemake.output.history,
        evaluation_out=snakemake.output.evaluation,
        environment=provenance.environment(device),
    )
    print(f"{point['arg']}={point['value']}: val_loss {record['val_loss']:.4f}, "
          f"val_accuracy {record['val_accuracy']:.4f} after {record['epochs_run']} epochs")


run(main, snakemake)
