# The lesson's outlook: every result in one table, compared on identical test sets.


rule leaderboard:
    input:
        code=package_code("leaderboard"),
        metrics=all_metrics_files(),
    output:
        csv="results/leaderboard.csv",
        html="results/leaderboard.html",
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
