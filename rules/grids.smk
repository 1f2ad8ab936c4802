# Grids: one run per point of a grid of settings (any experiment, any dataset kind; the lesson's
# dropout sweep is one). Each point is an experiment of its own, results/<dataset>/<grid>/<point>/,
# trained and evaluated by the usual rules; this rule tabulates and plots them.


rule aggregate_grid:
    """A grid's table and figure: every point's settings and metric against its baseline."""
    input:
        unpack(from_plan("grid_results")),
    output:
        table="results/{dataset}/{experiment}/grid.csv",
        plot=report(
            "results/{dataset}/{experiment}/grid.png",
            caption="../report/grid.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "metric per grid point"},
        ),
    log:
        "logs/{dataset}/{experiment}/aggregate_grid.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/aggregate_grid.tsv"
    wildcard_constraints:
        experiment=experiments_of(None, ["grid"]),
    conda:
        "../envs/plot.yaml"
    threads: 1
    params:
        points=from_plan("grid_points_table"),
        code=code_version("aggregate_grid"),
    script:
        "../scripts/aggregate_grid.py"
