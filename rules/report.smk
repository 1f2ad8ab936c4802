# The lesson's outlook: every result in one table, compared on identical test sets; one report
# page per dataset (and one per lesson episode, for the target rules episode2 ... episode5).


# The leaderboard reads the metrics of every enabled dataset whose data are available: a dataset
# whose download failed in an earlier run is listed as missing instead (Plan.unavailable_datasets),
# so a run after a failed download still ends with a leaderboard. The page is update(): Snakemake
# keeps the previous one while the job runs and restores it if the job fails; the CSV is removed
# then, so the next run builds both again.
rule leaderboard:
    """Every finished experiment in one sortable table and chart (results/leaderboard.html, .csv)."""
    input:
        metrics=PLAN.metrics_files(),
    output:
        csv="results/leaderboard.csv",
        html=update(
            report(
                "results/leaderboard.html",
                caption="../report/leaderboard.rst",
                category="Leaderboard",
            )
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
        missing=from_plan("leaderboard_missing"),
        code=code_version("leaderboard"),
    script:
        "../scripts/leaderboard.py"


rule aggregate_repeats:
    """The spread of an experiment's metric over its repeated seeds (repeats.csv, repeats.json)."""
    input:
        metrics=from_plan("repeat_metrics"),
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
    params:
        code=code_version("aggregate_repeats"),
    script:
        "../scripts/aggregate_repeats.py"


# One report per dataset: its kind's notebook, run by papermill in the job's own Python on the
# dataset's result files (the parameters; also the inputs, so a changed result reruns the report),
# kept executed next to an HTML page without code cells that displays offline. The page is
# update(): a failing report keeps the previous page (and removes the executed notebook, so the
# next run tries again) until a new one is complete.
rule report_dataset:
    """A report page: the notebook run on a dataset's (or an episode's) results, reports/<name>.html."""
    input:
        notebook=from_plan("report_notebook"),
        template=workflow_file("notebooks/templates/offline.html.j2"),
        results=from_plan("report_inputs"),
    output:
        html=update(
            report(
                "reports/{dataset}.html",
                caption="../report/dataset_report.rst",
                category="{dataset}",
                subcategory="report",
            )
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
        code=code_version("report_dataset"),
    script:
        "../scripts/report_dataset.py"


# The same page for the experiments of one lesson episode (experiments.X.episode), built by the
# target rules episode2 ... episode5 and lesson: episodes 4 and 5 share a dataset but not a page.
use rule report_dataset as report_episode with:
    output:
        html=update(
            report(
                "reports/{episode}.html",
                caption="../report/episode_report.rst",
                category="Episodes",
                subcategory="{episode}",
            )
        ),
        notebook="reports/{episode}.ipynb",
    log:
        "logs/{episode}/report.log",
    benchmark:
        "benchmarks/{episode}/report.tsv"
