"""keras-tuner grid search for one experiment: trials table, best model, its history and outputs."""

from pathlib import Path

from _rule import backup, run_with_tensorflow


def main(snakemake):
    from dlwf.core.fileio import backup_dir
    from dlwf.steps import images

    out, w = snakemake.output, snakemake.wildcards
    job = backup(snakemake, backup_dir(Path(out.history).parent), snakemake.params.settings)
    images.tune(
        w.experiment,
        snakemake.params.settings,
        str(Path(snakemake.input.classes).parent),
        job,
        out.model,
        out.history,
        out.trials,
        out.trials_history,
        out.outputs,
        out.environment,
        tensorboard_dir=out.get("tensorboard"),
    )


run_with_tensorflow(main, snakemake, announce=False)
