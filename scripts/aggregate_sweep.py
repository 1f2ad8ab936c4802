"""The lesson's sweep: final validation loss per value (table and lineplot), loss curves, metrics.json."""

from pathlib import Path

from _rule import run

from dlwf.steps import images


def main(snakemake):
    i, out = snakemake.input, snakemake.output
    images.aggregate_sweep(
        snakemake.wildcards.experiment,
        snakemake.params.settings,
        list(i.metrics),
        list(i.histories),
        str(Path(i.classes).parent),
        list(i.raw),
        out.table,
        out.plot,
        out.curves,
        out.metrics,
    )


run(main, snakemake)
