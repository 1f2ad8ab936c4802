"""A 5x5 grid of training images titled with their class names (the lesson's first look)."""

from pathlib import Path

from _rule import run

from dlwf.steps import images


def main(snakemake):
    images.sample_images(
        str(Path(snakemake.input.classes).parent),
        snakemake.output[0],
        title=f"{snakemake.wildcards.dataset}: training images",
    )


run(main, snakemake)
