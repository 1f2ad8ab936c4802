# Train and evaluate experiments on tabular split files (penguins; weather views).


rule train_tabular:
    input:
        unpack(tabular_split),
        code=package_code(
            "runtime",
            "experiment",
            "evaluation",
            "provenance",
            "training",
            "models",
            "tabular",
        ),
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
    log:
        "logs/{dataset}/{experiment}/train.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/train.tsv"
    wildcard_constraints:
        experiment=alternatives(tabular_experiments(tensorboard=False)),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        spec=experiment_spec,
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
        experiment=alternatives(tabular_experiments(tensorboard=True)),


rule evaluate_classifier:
    input:
        unpack(tabular_split),
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        raw=raw_files_of,
        code=package_code(
            "runtime",
            "experiment",
            "evaluation",
            "provenance",
            "training",
            "models",
            "tabular",
        ),
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


rule evaluate_regressor:
    input:
        unpack(tabular_split),
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        raw=raw_files_of,
        code=package_code(
            "runtime",
            "experiment",
            "evaluation",
            "provenance",
            "training",
            "models",
            "tabular",
        ),
    output:
        metrics="results/{dataset}/{experiment}/metrics.json",
        predictions="results/{dataset}/{experiment}/predictions.csv",
    log:
        "logs/{dataset}/{experiment}/evaluate.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/evaluate.tsv"
    wildcard_constraints:
        experiment=alternatives(experiments_of_kind("weather")),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        spec=experiment_spec,
    script:
        "../scripts/evaluate_regressor.py"
