"""Keep the four numeric features and the species of complete penguin rows."""

from _rule import run

from dlwf import fileio, penguins


def main(snakemake):
    prepared = penguins.prepare(snakemake.input.raw)
    print(f"{len(prepared)} complete rows; species counts:\n{prepared[penguins.TARGET].value_counts()}")
    fileio.write_csv(prepared, snakemake.output.prepared)


run(main, snakemake)
