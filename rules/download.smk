# Downloads run on the submitting host (cluster compute nodes often have no internet).
# The file is update(): Snakemake keeps it (and restores it if the job fails) instead of deleting
# it before the job, and the script replaces it only by a newly fetched, verified copy; a present
# copy with the expected md5 is kept, so a rerun works offline. No code input: a verified file
# is defined by its checksum, not by the code that fetched it. A local source file is an input,
# so editing your own table fetches it again (remote sources are guarded by their md5). The retry settings and the mirror
# come from the config, not params: they change how the file is fetched, not what it is.
localrules:
    download,


rule download:
    """Fetch one dataset file (URL, file, package data or mirror copy), verified by its md5."""
    input:
        source=from_plan("download_source"),
    output:
        data=update("resources/{dataset}/{filename}"),
        provenance="resources/{dataset}/{filename}.provenance.json",
    log:
        "logs/download/{dataset}/{filename}.log",
    benchmark:
        "benchmarks/download/{dataset}/{filename}.tsv"
    retries: 1
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        url=from_plan("download_url"),
        md5=from_plan("download_md5"),
    script:
        "../scripts/download.py"
