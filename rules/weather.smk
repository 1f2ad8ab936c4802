# Episode 3: predict tomorrow's sunshine hours in Basel. Views of the raw table are cached
# as files and split as in the lesson; training and evaluation are in tabular.smk.


rule prepare_weather_view:
    """One view of the weather table: its days, feature columns and next-day target."""
    input:
        raw=from_plan("raw_file"),
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
        code=code_version("prepare_weather_view"),
    script:
        "../scripts/prepare_weather_view.py"


rule split_weather:
    """The lesson's train/validation/test split of a weather view."""
    input:
        view="results/{dataset}/views/{view}.csv",
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
        code=code_version("split_weather"),
    script:
        "../scripts/split_weather.py"
