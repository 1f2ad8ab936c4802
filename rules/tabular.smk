# Train and evaluate experiments on tabular split files (penguins; weather views).


rule train_tabular:
    input:
        unpack(tabular_split),
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
    log:
        "logs/{dataset}/{experiment}/train.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/train.tsv"
    wildcard_constraints:
        experiment=alternatives(experiments_of_kind("penguins")),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        spec=experiment_spec,
    script:
        "../scripts/train_tabular.py"


rule evaluate_classifier:
    input:
        unpack(tabular_split),
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        raw=raw_files_of,
    output:
        metrics="results/{dataset}/{experiment}/metrics.json",
        predictions="results/{dataset}/{experiment}/predictions.csv",
        confusion="results/{dataset}/{experiment}/confusion_matrix.csv",
    log:
        "logs/{dataset}/{experiment}/evaluate.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/evaluate.tsv"
    wildcard_constraints:
        experiment=alternatives(experiments_of_kind("penguins")),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        spec=experiment_spec,
    script:
        "../scripts/evaluate_classifier.py"
