"""Train / validation / test split of one weather view, as in the lesson (two train_test_split calls)."""

from _rule import run

from dlwf.steps import weather


def main(snakemake):
    out = snakemake.output
    weather.split(
        snakemake.input.view,
        snakemake.params.target,
        **snakemake.params.split,
        train_out=out.train,
        val_out=out.val,
        test_out=out.test,
        columns_out=out.columns,
        where=f"config key datasets.{snakemake.wildcards.dataset}.split (view {snakemake.wildcards.view!r})",
    )


run(main, snakemake)
