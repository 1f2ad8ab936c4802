"""Mean, std, min and max of an experiment's metrics over its repeated seeds."""

from _rule import run

from dlwf.steps import report


def main(snakemake):
    report.repeats(
        snakemake.wildcards.experiment, list(snakemake.input.metrics), snakemake.output.csv, snakemake.output.summary
    )


run(main, snakemake)
