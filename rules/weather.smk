# Episode 3: predict tomorrow's sunshine hours in Basel. Views of the raw table are cached
# as files and split as in the lesson; training and evaluation are in tabular.smk.


wildcard_constraints:
    view=alternatives(view_ids("weather")),


rule prepare_weather_view:
    input:
        raw=lambda wc: raw_files(wc.dataset)[0],
        code=package_code("weather", "tabular", "evaluation"),
    output:
        view="results/{dataset}/views/{view}.csv",
    log:
        "logs/{dataset}/views/{view}.log",
    benchmark:
        "benchmarks/{dataset}/views/{view}.tsv"
    wildcard_constraints:
        dataset=alternatives(datasets_of_kind("weather")),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        view=weather_view,
    script:
        "../scripts/prepare_weather_view.py"


rule split_weather:
    input:
        view="results/{dataset}/views/{view}.csv",
        code=package_code("weather", "tabular", "evaluation"),
    output:
        train="results/{dataset}/split/{view}/train.csv",
        val="results/{dataset}/split/{view}/val.csv",
        test="results/{dataset}/split/{view}/test.csv",
        columns="results/{dataset}/split/{view}/columns.json",
    log:
        "logs/{dataset}/split/{view}.log",
    benchmark:
        "benchmarks/{dataset}/split/{view}.tsv"
    wildcard_constraints:
        dataset=alternatives(datasets_of_kind("weather")),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        target=lambda wc: DATASETS[wc.dataset]["target"],
        split=lambda wc: DATASETS[wc.dataset]["split"],
    script:
        "../scripts/split_weather.py"


rule plot_prediction_scatter:
    input:
        predictions="results/{dataset}/{experiment}/predictions.csv",
        code=package_code("plots"),
    output:
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
        "logs/{dataset}/{experiment}/plot_prediction_scatter.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/plot_prediction_scatter.tsv"
    wildcard_constraints:
        experiment=alternatives(experiments_of_kind("weather")),
    conda:
        "../envs/plot.yaml"
    threads: 1
    params:
        label=lambda wc: f"{DATASETS[wc.dataset]['target']} (next day)",
    script:
        "../scripts/plot_prediction_scatter.py"
