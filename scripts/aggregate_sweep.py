"""Table and plots of a sweep: final validation loss per value (the lesson's lineplot)."""

from pathlib import Path

from _rule import run

from dlwf import sweep


def main(snakemake):
    table = sweep.aggregate(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        evaluation_files=list(snakemake.input.evaluations),
        history_files=list(snakemake.input.histories),
        prepared_dir=str(Path(snakemake.input.classes).parent),
        raw_files=list(snakemake.input.raw),
        table_out=snakemake.output.table,
        plot_out=snakemake.output.plot,
        curves_out=snakemake.output.curves,
        metrics_out=snakemake.output.metrics,
    )
    print(table.to_string(index=False))


run(main, snakemake)
