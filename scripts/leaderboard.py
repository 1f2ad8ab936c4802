"""Collect every experiment's metrics.json into results/leaderboard.csv and .html."""

from pathlib import Path

from _rule import run

from dlwf import fileio, leaderboard


def main(snakemake):
    metrics = list(snakemake.input.metrics)
    benchmark_dirs = [str(Path("benchmarks") / Path(m).parent.relative_to("results")) for m in metrics]
    table = leaderboard.build(metrics, benchmark_dirs)
    fileio.write_csv(table, snakemake.output.csv)
    with fileio.atomic_path(snakemake.output.html) as tmp:
        tmp.write_text(leaderboard.to_html(table))
    print(f"{len(table)} rows in {table['comparison_group'].nunique()} comparison group(s)")


run(main, snakemake)
