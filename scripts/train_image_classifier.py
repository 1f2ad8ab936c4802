"""Train one image experiment; save model.keras, history.csv and its outputs on the validation images."""

from pathlib import Path

from _rule import backup, run_with_tensorflow


def main(snakemake):
    from dlwf.core.fileio import backup_dir
    from dlwf.steps import images

    out, w = snakemake.output, snakemake.wildcards
    job = backup(snakemake, backup_dir(Path(out.history).parent), snakemake.params.settings)
    images.train(
        w.experiment,
        snakemake.params.settings,
        str(Path(snakemake.input.classes).parent),
        out.model,
        out.history,
        out.outputs,
        out.environment,
        tensorboard_dir=out.get("tensorboard"),
        backup=job,
    )


run_with_tensorflow(main, snakemake, announce=False)
