"""Read a folder (or archive) of class sub-folders of images into the prepared .npy arrays."""

from pathlib import Path

from _rule import run

from dlwf.steps import images


def main(snakemake):
    dataset = snakemake.wildcards.dataset
    spec = snakemake.config["datasets"][dataset]
    source = spec["path"] if "path" in spec else snakemake.input.raw[0]  # the folder, or the fetched archive
    images.prepare_folder(
        source,
        **snakemake.params.folder,
        prepared_dir=str(Path(snakemake.output.classes).parent),
        where=f"config key datasets.{dataset}",
    )


run(main, snakemake)
