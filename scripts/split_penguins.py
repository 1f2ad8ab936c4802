"""Stratified train/test split with one-hot species targets."""

from _rule import run

from dlwf.steps import penguins


def main(snakemake):
    out = snakemake.output
    penguins.split(snakemake.input.prepared, **snakemake.params.split, train_out=out.train, test_out=out.test,
                   columns_out=out.columns)


run(main, snakemake)
