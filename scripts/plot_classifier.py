"""A classifier's figures: training curves per metric, and the test confusion matrix with class names."""

from _rule import run

from dlwf.steps import plots


def main(snakemake):
    i, out, title = snakemake.input, snakemake.output, snakemake.wildcards.experiment
    plots.classifier_figures(i.history, i.confusion, out.curves, out.confusion, title)


run(main, snakemake)
