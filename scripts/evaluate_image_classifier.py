"""Evaluate a saved image classifier (loaded from model.keras) on the validation images."""

from pathlib import Path

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import images

    i, out = snakemake.input, snakemake.output
    images.evaluate(snakemake.wildcards.experiment, snakemake.params.settings, i.model, i.history,
                    str(Path(i.classes).parent), list(i.raw), out.metrics, out.predictions, out.confusion,
                    training_environment_json=i.training_environment)


run_with_tensorflow(main, snakemake)
