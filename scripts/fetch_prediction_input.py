"""Fetch the new rows of a `predict` entry (URL, file or mirror copy), verified like a dataset file."""

from _rule import run

from dlwf.steps import download


def main(snakemake):
    entry = snakemake.wildcards.entry
    download.download_file(
        f"predict/{entry}",
        snakemake.wildcards.filename,
        snakemake.params.url,
        snakemake.params.md5,
        snakemake.output.data,
        snakemake.output.provenance,
        mirror=snakemake.config["mirror"],
        **snakemake.config["download"],
    )


run(main, snakemake)
