# Downloads run on the submitting host (cluster compute nodes often have no internet).
localrules:
    download,


rule download:
    input:
        code=package_code("download"),
    output:
        data="resources/{dataset}/{filename}",
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
        url=download_url,
        md5=download_md5,
        attempts=config["download"]["attempts"],
        backoff=config["download"]["backoff"],
        timeout=config["download"]["timeout"],
    script:
        "../scripts/download.py"
