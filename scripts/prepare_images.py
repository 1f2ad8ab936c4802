"""Validate an image dataset's raw files (or convert the CIFAR-10 tarball) into prepared .npy files."""

from pathlib import Path

from _rule import run

from dlwf.steps import images


def main(snakemake):
    images.prepare(
        list(snakemake.input.raw),
        **snakemake.params.dataset,
        prepared_dir=str(Path(snakemake.output.classes).parent),
        where=f"config key datasets.{snakemake.wildcards.dataset}",
    )


run(main, snakemake)
