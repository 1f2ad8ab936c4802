"""Mean, std, min and max of an experiment's metrics over its repeated seeds."""

from _rule import run

from dlwf import fileio, leaderboard


def main(snakemake):
    table, summary = leaderboard.summarise_repeats(list(snakemake.input.metrics))
    fileio.write_csv(table, snakemake.output.csv)
    fileio.write_json(summary, snakemake.output.summary)
    print(summary)


run(main, snakemake)
