# The lesson's "perform a prediction" step on new data (each model's card, for sharing it, is
# written by its evaluation).


rule fetch_prediction_input:
    """Fetch the new rows of a `predict` entry (URL or file), verified by its md5 when one is given."""
    input:
        source=from_plan("prediction_source"),
    output:
        data=update("resources/predict/{entry}/{filename}"),
        provenance="resources/predict/{entry}/{filename}.provenance.json",
    log:
        "logs/download/predict/{entry}/{filename}.log",
    benchmark:
        "benchmarks/download/predict/{entry}/{filename}.tsv"
    retries: 1
    localrule: True
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        url=from_plan("prediction_url"),
        md5=from_plan("prediction_md5"),
    script:
        "../scripts/fetch_prediction_input.py"


rule predict:
    """Apply a trained model.keras (safe mode) to new rows or images: one prediction per input."""
    input:
        unpack(from_plan("prediction_inputs")),
        unpack(from_plan("prediction_data")),
        model="results/{dataset}/{experiment}/model.keras",
    output:
        "results/{dataset}/{experiment}/predictions/{entry}.csv",
    log:
        "logs/{dataset}/{experiment}/predict_{entry}.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/predict_{entry}.tsv"
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=4000,
    params:
        settings=from_plan("settings"),
        code=code_version("predict"),
    script:
        "../scripts/predict.py"
