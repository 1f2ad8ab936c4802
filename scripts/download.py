"""Fetch one dataset file (URL, file, package data or mirror copy) and record its provenance."""

from _rule import run

from dlwf import download, fileio


def main(snakemake):
    dataset, filename = snakemake.wildcards.dataset, snakemake.wildcards.filename
    mirror = snakemake.config.get("mirror")
    source = download.choose_source(snakemake.params.url, mirror, dataset, filename)
    record = download.fetch(
        source,
        snakemake.output.data,
        md5=snakemake.params.md5,
        attempts=snakemake.params.attempts,
        backoff=snakemake.params.backoff,
        timeout=snakemake.params.timeout,
    )
    record.update(dataset=dataset, canonical_url=snakemake.params.url, mirror=mirror)
    if not record["md5_verified"]:
        print(f"no md5 configured for {filename}; computed {record['md5']} (add it to the config)")
    fileio.write_json(record, snakemake.output.provenance)
    print(f"fetched {filename} from {source}: {record['bytes']} bytes, md5 {record['md5']}")


run(main, snakemake)
