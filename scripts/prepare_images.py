"""Validate an image dataset's raw files (or convert the CIFAR-10 tarball) into prepared .npy files."""

from pathlib import Path

from _rule import run

from dlwf import images


def main(snakemake):
    settings = snakemake.params.dataset
    record = images.prepare(
        list(snakemake.input.raw),
        Path(snakemake.output.classes).parent,
        class_names=settings["class_names"],
        source_format=settings["format"],
        subset=settings["subset"],
        where=settings["where"],
    )
    print(f"prepared {record['counts']} images of shape {record['image_shape']}")
    print(f"class counts: {record['class_counts']}")


run(main, snakemake)
