# The lesson's outlook: every result in one table, compared on identical test sets.


rule leaderboard:
    input:
        code=package_code("leaderboard"),
        metrics=all_metrics_files(),
    output:
        csv="results/leaderboard.csv",
        html=report(
            "results/leaderboard.html",
            caption="../report/leaderboard.rst",
            category="Leaderboard",
        ),
    log:
        "logs/leaderboard.log",
    benchmark:
        "benchmarks/leaderboard.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    script:
        "../scripts/leaderboard.py"


rule aggregate_repeats:
    input:
        code=package_code("leaderboard"),
        metrics=repeat_metrics,
    output:
        csv="results/{dataset}/{experiment}/repeats.csv",
        summary="results/{dataset}/{experiment}/repeats.json",
    log:
        "logs/{dataset}/{experiment}/aggregate_repeats.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/aggregate_repeats.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    script:
        "../scripts/aggregate_repeats.py"


# One report per dataset: its kind's notebook, run by papermill on the dataset's result files
# (the parameters; also the inputs, so a changed result reruns the report), kept executed next
# to an HTML page without code cells that displays offline.
rule report_dataset:
    input:
        notebook=report_notebook,
        template=REPORT_TEMPLATE,
        results=report_inputs,
        code=package_code("report", "leaderboard"),
    output:
        html=report(
            "reports/{dataset}.html",
            caption="../report/dataset_report.rst",
            category="{dataset}",
            subcategory="report",
        ),
        notebook="reports/{dataset}.ipynb",
    log:
        "logs/{dataset}/report.log",
    benchmark:
        "benchmarks/{dataset}/report.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    params:
        parameters=lambda wc: report_parameters(wc.dataset),
        show_code=config["report_code"],
    script:
        "../scripts/report_dataset.py"
