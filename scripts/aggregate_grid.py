"""One row per point of a grid (its settings and metrics) and the plot of the metric over the grid."""

from _rule import run

from dlwf.steps import grids


def main(snakemake):
    i, out = snakemake.input, snakemake.output
    grids.aggregate(
        snakemake.wildcards.experiment, snakemake.params.points, list(i.metrics), list(i.histories), out.table, out.plot
    )


run(main, snakemake)
