"""A regressor's figures: training curves, and predicted vs true values beside the baseline's."""

from _rule import run

from dlwf.steps import plots


def main(snakemake):
    i, out, title = snakemake.input, snakemake.output, snakemake.wildcards.experiment
    plots.regressor_figures(i.history, i.predictions, snakemake.params.label, out.curves, out.train, out.test, title)


run(main, snakemake)
