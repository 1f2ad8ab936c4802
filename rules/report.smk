# The lesson's outlook: every result in one table, compared on identical test sets; one report
# page per dataset.


rule leaderboard:
    input:
        metrics=PLAN.metrics_files(),
        code=code_inputs("leaderboard"),
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
    params:
        experiments=from_plan("leaderboard_entries"),
    script:
        "../scripts/leaderboard.py"


rule aggregate_repeats:
    input:
        metrics=from_plan("repeat_metrics"),
        code=code_inputs("aggregate_repeats"),
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
        notebook=from_plan("report_notebook"),
        template=workflow_file("notebooks/templates/offline.html.j2"),
        results=from_plan("report_inputs"),
        code=code_inputs("report_dataset"),
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
        parameters=from_plan("report_parameters"),
        show_code=config["report_code"],
    script:
        "../scripts/report_dataset.py"
