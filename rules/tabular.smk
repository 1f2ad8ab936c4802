# Train and evaluate experiments on tabular split files (penguins; weather views).


rule train_tabular:
    """Train one experiment's model on a tabular split (model.keras, history.csv)."""
    input:
        unpack(from_plan("split_files")),
        code=code_inputs("train_tabular"),
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
    log:
        "logs/{dataset}/{experiment}/train.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/train.tsv"
    wildcard_constraints:
        experiment=experiments_of(["penguins", "weather"], tensorboard=False),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        settings=from_plan("settings"),
    script:
        "../scripts/train_tabular.py"


# The same training for experiments with `training.tensorboard: true`, which also write
# TensorBoard logs (train/ and validation/ event files) as a declared output directory.
use rule train_tabular as train_tabular_tensorboard with:
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        tensorboard=directory("results/{dataset}/{experiment}/tensorboard"),
    wildcard_constraints:
        experiment=experiments_of(["penguins", "weather"], tensorboard=True),


rule evaluate_classifier:
    """Evaluate a classifier on its test set against the majority class (metrics.json)."""
    input:
        unpack(from_plan("split_files")),
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        raw=from_plan("raw_files"),
        code=code_inputs("evaluate_table"),
    output:
        metrics="results/{dataset}/{experiment}/metrics.json",
        predictions="results/{dataset}/{experiment}/predictions.csv",
        confusion="results/{dataset}/{experiment}/confusion_matrix.csv",
    log:
        "logs/{dataset}/{experiment}/evaluate.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/evaluate.tsv"
    wildcard_constraints:
        experiment=experiments_of(["penguins"]),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        settings=from_plan("settings"),
    script:
        "../scripts/evaluate_table.py"


rule evaluate_regressor:
    """Evaluate a regressor on its splits against the naive baseline (metrics.json)."""
    input:
        unpack(from_plan("split_files")),
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        raw=from_plan("raw_files"),
        code=code_inputs("evaluate_table"),
    output:
        metrics="results/{dataset}/{experiment}/metrics.json",
        predictions="results/{dataset}/{experiment}/predictions.csv",
    log:
        "logs/{dataset}/{experiment}/evaluate.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/evaluate.tsv"
    wildcard_constraints:
        experiment=experiments_of(["weather"]),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        settings=from_plan("settings"),
    script:
        "../scripts/evaluate_table.py"
