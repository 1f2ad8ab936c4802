"""Fetch one dataset file (URL, file, package data or mirror copy), verified; record its provenance."""

from _rule import run

from dlwf.steps import download


def main(snakemake):
    dataset, filename = snakemake.wildcards.dataset, snakemake.wildcards.filename
    download.download_file(
        dataset,
        filename,
        snakemake.params.url,
        snakemake.params.md5,
        snakemake.output.data,
        snakemake.output.provenance,
        mirror=snakemake.config["mirror"],
        **snakemake.config["download"],
    )


run(main, snakemake)
