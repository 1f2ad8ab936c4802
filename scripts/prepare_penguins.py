"""Keep the four numeric features and the species of complete penguin rows."""

from _rule import run

from dlwf.steps import penguins


def main(snakemake):
    penguins.prepare(snakemake.input.raw, snakemake.output.prepared)


run(main, snakemake)
