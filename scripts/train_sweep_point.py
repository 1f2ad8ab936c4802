"""Train the sweep experiment's model for one value; save it, its history and its final validation scores."""

from pathlib import Path

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import images

    out = snakemake.output
    images.train_sweep_point(snakemake.wildcards.experiment, snakemake.params.settings, snakemake.params.arg,
                             str(Path(snakemake.input.classes).parent), out.model, out.history, out.evaluation)


run_with_tensorflow(main, snakemake)
