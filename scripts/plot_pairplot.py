"""Exploration figure: the first numeric features of a table against each other, coloured by class."""

from _rule import run

from dlwf.steps import tables


def main(snakemake):
    tables.pairplot(snakemake.input.prepared, snakemake.input.info, snakemake.output[0])


run(main, snakemake)
