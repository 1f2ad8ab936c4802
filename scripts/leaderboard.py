"""Collect every experiment's metrics.json into results/leaderboard.csv and .html."""

from _rule import run

from dlwf.steps import report


def main(snakemake):
    report.leaderboard(list(snakemake.input.metrics), snakemake.params.experiments, snakemake.output.csv,
                       snakemake.output.html)


run(main, snakemake)
