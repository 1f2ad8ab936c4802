"""keras-tuner grid search for one experiment: trials table, best model, its history and outputs."""

from pathlib import Path

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import images

    out = snakemake.output
    images.tune(snakemake.wildcards.experiment, snakemake.params.settings, str(Path(snakemake.input.classes).parent),
                out.tuner, out.model, out.history, out.trials, out.trials_history, out.outputs, out.environment)


run_with_tensorflow(main, snakemake)
