"""Collect every finished experiment's metrics.json into results/leaderboard.csv and .html (missing ones listed)."""

from _rule import run

from dlwf.steps import report


def main(snakemake):
    report.leaderboard(
        list(snakemake.input.metrics),
        snakemake.params.experiments,
        snakemake.output.csv,
        snakemake.output.html,
        missing=snakemake.params.missing,
    )


run(main, snakemake)
