"""Evaluate an image classifier's outputs on the validation images (no TensorFlow)."""

from pathlib import Path

from _rule import figure_outputs, run


def main(snakemake):
    from dlwf.steps import images

    i, out = snakemake.input, snakemake.output
    images.evaluate(
        snakemake.wildcards.experiment,
        snakemake.params.settings,
        i.model,
        i.outputs,
        i.history,
        str(Path(i.classes).parent),
        list(i.raw),
        out.metrics,
        out.predictions,
        out.confusion,
        training_environment_json=i.training_environment,
        card_out=out.card,
        figures=figure_outputs(out),
    )


run(main, snakemake)
