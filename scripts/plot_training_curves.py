"""Training and validation curves per metric, from history.csv."""

from _rule import run

from dlwf.steps import plots


def main(snakemake):
    plots.training_curves(snakemake.input.history, snakemake.output[0], title=snakemake.wildcards.experiment)


run(main, snakemake)
