# Train and evaluate experiments on tabular split files (tables such as the penguins; weather views).


rule train_tabular:
    """Train one model on a tabular split (model.keras, history.csv, its reloaded outputs.npz)."""
    input:
        unpack(from_plan("split_files")),
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        environment="results/{dataset}/{experiment}/train_environment.json",
        outputs="results/{dataset}/{experiment}/outputs.npz",
    log:
        "logs/{dataset}/{experiment}/train.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/train.tsv"
    wildcard_constraints:
        experiment=experiments_of(TABLE_KINDS, tensorboard=False),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        settings=from_plan("settings"),
        code=code_version("train_tabular"),
    script:
        "../scripts/train_tabular.py"


# Evaluation needs no TensorFlow: the training job reloads the saved model (safe mode) and writes
# its outputs on every split (outputs.npz). The same training for experiments with
# `training.tensorboard: true`, which also write
# TensorBoard logs (train/ and validation/ event files) as a declared output directory.
use rule train_tabular as train_tabular_tensorboard with:
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        environment="results/{dataset}/{experiment}/train_environment.json",
        outputs="results/{dataset}/{experiment}/outputs.npz",
        tensorboard=directory("results/{dataset}/{experiment}/tensorboard"),
    wildcard_constraints:
        experiment=experiments_of(TABLE_KINDS, tensorboard=True),


rule evaluate_classifier:
    """Score a classifier on its test set against the majority class; figures, model card."""
    input:
        unpack(from_plan("split_files")),
        model="results/{dataset}/{experiment}/model.keras",
        outputs="results/{dataset}/{experiment}/outputs.npz",
        history="results/{dataset}/{experiment}/history.csv",
        training_environment="results/{dataset}/{experiment}/train_environment.json",
        raw=from_plan("raw_files"),
    output:
        metrics="results/{dataset}/{experiment}/metrics.json",
        predictions="results/{dataset}/{experiment}/predictions.csv",
        card="results/{dataset}/{experiment}/model_card.md",
        confusion="results/{dataset}/{experiment}/confusion_matrix.csv",
        curves=report(
            "results/{dataset}/{experiment}/training_curves.png",
            caption="../report/training_curves.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "training curves"},
        ),
        confusion_plot=report(
            "results/{dataset}/{experiment}/confusion_matrix.png",
            caption="../report/confusion_matrix.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "confusion matrix"},
        ),
    log:
        "logs/{dataset}/{experiment}/evaluate.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/evaluate.tsv"
    wildcard_constraints:
        experiment=experiments_of(TABLE_KINDS, tasks=["classification"]),
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        settings=from_plan("settings"),
        code=code_version("evaluate_table"),
    script:
        "../scripts/evaluate_table.py"


rule evaluate_regressor:
    """Score a regressor on its splits against the naive baseline; figures, model card."""
    input:
        unpack(from_plan("split_files")),
        model="results/{dataset}/{experiment}/model.keras",
        outputs="results/{dataset}/{experiment}/outputs.npz",
        history="results/{dataset}/{experiment}/history.csv",
        training_environment="results/{dataset}/{experiment}/train_environment.json",
        raw=from_plan("raw_files"),
    output:
        metrics="results/{dataset}/{experiment}/metrics.json",
        predictions="results/{dataset}/{experiment}/predictions.csv",
        card="results/{dataset}/{experiment}/model_card.md",
        curves=report(
            "results/{dataset}/{experiment}/training_curves.png",
            caption="../report/training_curves.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "training curves"},
        ),
        scatter_train=report(
            "results/{dataset}/{experiment}/predicted_vs_true_train.png",
            caption="../report/predicted_vs_true.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "predicted vs true (training set)"},
        ),
        scatter_test=report(
            "results/{dataset}/{experiment}/predicted_vs_true_test.png",
            caption="../report/predicted_vs_true.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "predicted vs true (test set)"},
        ),
    log:
        "logs/{dataset}/{experiment}/evaluate.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/evaluate.tsv"
    wildcard_constraints:
        experiment=experiments_of(TABLE_KINDS, tasks=["regression"]),
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        settings=from_plan("settings"),
        label=from_plan("target_label"),
        code=code_version("evaluate_table"),
    script:
        "../scripts/evaluate_table.py"
