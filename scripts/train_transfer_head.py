"""Train a transfer experiment's head on the cached features; save head.keras + history.csv."""

from pathlib import Path

from _rule import backup, run_with_tensorflow


def main(snakemake):
    from dlwf.core.fileio import backup_dir
    from dlwf.steps import transfer

    i, out, w = snakemake.input, snakemake.output, snakemake.wildcards
    job = backup(snakemake, backup_dir(Path(out.history).parent), snakemake.params.settings)
    transfer.train_head(
        w.experiment,
        snakemake.params.settings,
        str(Path(i.classes).parent),
        i.train_features,
        i.test_features,
        out.head,
        out.history,
        out.environment,
        tensorboard_dir=out.get("tensorboard"),
        backup=job,
    )


run_with_tensorflow(main, snakemake, announce=False)
