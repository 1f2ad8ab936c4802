"""Train one image experiment on the prepared images and save model.keras + history.csv."""

from pathlib import Path

from _rule import run

from dlwf import runtime


def main(snakemake):
    runtime.configure_tensorflow(snakemake.threads)  # before Keras is imported
    from dlwf import image_experiment

    image_experiment.train_image_classifier(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        prepared_dir=str(Path(snakemake.input.classes).parent),
        model_out=snakemake.output.model,
        history_out=snakemake.output.history,
    )


run(main, snakemake)
