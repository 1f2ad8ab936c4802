# The lesson's last steps: perform a prediction on new data, and share the model (its card).


rule fetch_prediction_input:
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
    input:
        unpack(from_plan("prediction_inputs")),
        unpack(from_plan("prediction_data")),
        model="results/{dataset}/{experiment}/model.keras",
        code=code_inputs("predict"),
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
    script:
        "../scripts/predict.py"


rule model_card:
    input:
        unpack(from_plan("card_data")),
        metrics="results/{dataset}/{experiment}/metrics.json",
        model="results/{dataset}/{experiment}/model.keras",
        code=code_inputs("model_card"),
    output:
        "results/{dataset}/{experiment}/model_card.md",
    log:
        "logs/{dataset}/{experiment}/model_card.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/model_card.tsv"
    wildcard_constraints:
        experiment=alternatives(PLAN.model_experiment_ids()),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        settings=from_plan("settings"),
        description=from_plan("description"),
    script:
        "../scripts/model_card.py"
