"""Keep a table's feature and target columns (rows with missing values dropped or refused)."""

from _rule import run

from dlwf.steps import tables


def main(snakemake):
    tables.prepare(
        snakemake.input.raw,
        **snakemake.params.table,
        prepared_out=snakemake.output.prepared,
        info_out=snakemake.output.info,
    )


run(main, snakemake)
