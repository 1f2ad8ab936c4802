"""Train / (validation) / test split of a prepared table, stratified for classification."""

from _rule import run

from dlwf.steps import tables


def main(snakemake):
    out = snakemake.output
    tables.split(
        snakemake.input.prepared,
        snakemake.input.info,
        **snakemake.params.split,
        train_out=out.train,
        test_out=out.test,
        columns_out=out.columns,
        val_out=out.get("val"),
        where=f"config key datasets.{snakemake.wildcards.dataset}",
    )


run(main, snakemake)
