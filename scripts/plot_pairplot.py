"""Exploration figure: pairplot of the penguin features coloured by species."""

from _rule import run

from dlwf.steps import penguins


def main(snakemake):
    penguins.pairplot(snakemake.input.prepared, snakemake.output[0])


run(main, snakemake)
