"""Train one image experiment; save model.keras, history.csv and its outputs on the validation images."""

from pathlib import Path

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import images

    out = snakemake.output
    images.train(snakemake.wildcards.experiment, snakemake.params.settings, str(Path(snakemake.input.classes).parent),
                 out.model, out.history, out.outputs, out.environment)


run_with_tensorflow(main, snakemake)
