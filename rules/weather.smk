# Episode 3: predict tomorrow's sunshine hours in Basel. Views of the raw table are cached
# as files and split as in the lesson; training and evaluation are in tabular.smk.


rule prepare_weather_view:
    """One view of the weather table: its days, feature columns and next-day target."""
    input:
        raw=from_plan("raw_file"),
        code=code_inputs("prepare_weather_view"),
    output:
        view="results/{dataset}/views/{view}.csv",
    log:
        "logs/{dataset}/views/{view}.log",
    benchmark:
        "benchmarks/{dataset}/views/{view}.tsv"
    wildcard_constraints:
        dataset=datasets_of("weather"),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        view=from_plan("weather_view"),
    script:
        "../scripts/prepare_weather_view.py"


rule split_weather:
    """The lesson's train/validation/test split of a weather view."""
    input:
        view="results/{dataset}/views/{view}.csv",
        code=code_inputs("split_weather"),
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
        dataset=datasets_of("weather"),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        target=from_plan("target"),
        split=from_plan("weather_split"),
    script:
        "../scripts/split_weather.py"


rule plot_prediction_scatter:
    """Predicted against true next-day values of a regressor, beside the baseline's."""
    input:
        predictions="results/{dataset}/{experiment}/predictions.csv",
        code=code_inputs("plot_prediction_scatter"),
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
        experiment=experiments_of(["weather"]),
    conda:
        "../envs/plot.yaml"
    threads: 1
    params:
        label=from_plan("target_label"),
    script:
        "../scripts/plot_prediction_scatter.py"
