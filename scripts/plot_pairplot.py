"""Exploration figure: pairplot of the penguin features coloured by species."""

from _rule import run

from dlwf import fileio, penguins, plots


def main(snakemake):
    prepared = penguins.read_prepared(snakemake.input.prepared)
    fileio.save_figure(plots.pairplot(prepared, hue=penguins.TARGET), snakemake.output[0])


run(main, snakemake)
