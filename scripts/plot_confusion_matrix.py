"""Heatmap of the test confusion matrix with class names."""

from _rule import run

from dlwf import plots


def main(snakemake):
    plots.save_confusion_heatmap(snakemake.input.confusion, snakemake.output[0], title=snakemake.wildcards.experiment)


run(main, snakemake)
