# Figures drawn from result files; cheap, no TensorFlow. One job per trained run draws all of
# its figures (one Python start instead of one per figure).


rule plot_classifier:
    input:
        history="results/{dataset}/{experiment}/history.csv",
        confusion="results/{dataset}/{experiment}/confusion_matrix.csv",
        code=code_inputs("plot_classifier"),
    output:
        curves=report(
            "results/{dataset}/{experiment}/training_curves.png",
            caption="../report/training_curves.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "training curves"},
        ),
        confusion=report(
            "results/{dataset}/{experiment}/confusion_matrix.png",
            caption="../report/confusion_matrix.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "confusion matrix"},
        ),
    log:
        "logs/{dataset}/{experiment}/plot.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/plot.tsv"
    wildcard_constraints:
        experiment=experiments_of(
            None, ["single", "tuner", "transfer"], tasks=["classification"]
        ),
    conda:
        "../envs/plot.yaml"
    threads: 1
    script:
        "../scripts/plot_classifier.py"


# Regressions (weather views, tables with task: regression): the model beside the baseline.
rule plot_regressor:
    input:
        history="results/{dataset}/{experiment}/history.csv",
        predictions="results/{dataset}/{experiment}/predictions.csv",
        code=code_inputs("plot_regressor"),
    output:
        curves=report(
            "results/{dataset}/{experiment}/training_curves.png",
            caption="../report/training_curves.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "training curves"},
        ),
        train=report(
            "results/{dataset}/{experiment}/predicted_vs_true_train.png",
            caption="../report/predicted_vs_true.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "predicted vs true (training set)"},
        ),
        test=report(
            "results/{dataset}/{experiment}/predicted_vs_true_test.png",
            caption="../report/predicted_vs_true.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "predicted vs true (test set)"},
        ),
    log:
        "logs/{dataset}/{experiment}/plot.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/plot.tsv"
    wildcard_constraints:
        experiment=experiments_of(
            None, ["single", "tuner", "transfer"], tasks=["regression"]
        ),
    conda:
        "../envs/plot.yaml"
    threads: 1
    params:
        label=from_plan("target_label"),
    script:
        "../scripts/plot_regressor.py"
