"""Train a transfer experiment's head on the cached features; save head.keras + history.csv."""

from pathlib import Path

from _rule import run

from dlwf import runtime


def main(snakemake):
    runtime.configure_tensorflow(snakemake.threads)  # before Keras is imported
    from dlwf import transfer

    transfer.train_head(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        prepared_dir=str(Path(snakemake.input.classes).parent),
        train_features=snakemake.input.train_features,
        test_features=snakemake.input.test_features,
        head_out=snakemake.output.head,
        history_out=snakemake.output.history,
    )


run(main, snakemake)
