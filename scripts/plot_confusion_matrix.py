"""Heatmap of the test confusion matrix with class names."""

from _rule import run

from dlwf.steps import plots


def main(snakemake):
    plots.confusion_matrix(snakemake.input.confusion, snakemake.output[0], title=snakemake.wildcards.experiment)


run(main, snakemake)
