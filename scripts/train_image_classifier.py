"""Train one image experiment on the prepared images and save model.keras + history.csv."""

from pathlib import Path

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import images

    images.train(snakemake.wildcards.experiment, snakemake.params.settings, str(Path(snakemake.input.classes).parent),
                 snakemake.output.model, snakemake.output.history, snakemake.output.environment)


run_with_tensorflow(main, snakemake)
