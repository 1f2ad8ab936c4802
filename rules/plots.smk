# Figures drawn from result files; cheap, no TensorFlow.


rule plot_training_curves:
    """Training and validation curves per epoch, from history.csv."""
    input:
        history="results/{dataset}/{experiment}/history.csv",
        code=code_inputs("plot_training_curves"),
    output:
        report(
            "results/{dataset}/{experiment}/training_curves.png",
            caption="../report/training_curves.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "training curves"},
        ),
    log:
        "logs/{dataset}/{experiment}/plot_training_curves.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/plot_training_curves.tsv"
    conda:
        "../envs/plot.yaml"
    threads: 1
    script:
        "../scripts/plot_training_curves.py"


rule plot_confusion_matrix:
    """A classifier's confusion matrix as a heatmap."""
    input:
        confusion="results/{dataset}/{experiment}/confusion_matrix.csv",
        code=code_inputs("plot_confusion_matrix"),
    output:
        report(
            "results/{dataset}/{experiment}/confusion_matrix.png",
            caption="../report/confusion_matrix.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "confusion matrix"},
        ),
    log:
        "logs/{dataset}/{experiment}/plot_confusion_matrix.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/plot_confusion_matrix.tsv"
    conda:
        "../envs/plot.yaml"
    threads: 1
    script:
        "../scripts/plot_confusion_matrix.py"
