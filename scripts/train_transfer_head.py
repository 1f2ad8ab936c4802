"""Train a transfer experiment's head on the cached features; save head.keras + history.csv."""

from pathlib import Path

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import transfer

    i = snakemake.input
    transfer.train_head(snakemake.wildcards.experiment, snakemake.params.settings, str(Path(i.classes).parent),
                        i.train_features, i.test_features, snakemake.output.head, snakemake.output.history,
                        snakemake.output.environment)


run_with_tensorflow(main, snakemake)
