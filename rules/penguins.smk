# Episode 2: classify penguin species from four body measurements.


rule prepare_penguins:
    input:
        raw=lambda wc: raw_files(wc.dataset)[0],
        code=package_code("penguins", "tabular"),
    output:
        prepared="results/{dataset}/prepared.csv",
    log:
        "logs/{dataset}/prepare.log",
    benchmark:
        "benchmarks/{dataset}/prepare.tsv"
    wildcard_constraints:
        dataset=alternatives(datasets_of_kind("penguins")),
    conda:
        "../envs/data.yaml"
    threads: 1
    script:
        "../scripts/prepare_penguins.py"


rule split_penguins:
    input:
        prepared="results/{dataset}/prepared.csv",
        code=package_code("penguins", "tabular"),
    output:
        train="results/{dataset}/split/train.csv",
        test="results/{dataset}/split/test.csv",
        columns="results/{dataset}/split/columns.json",
    log:
        "logs/{dataset}/split.log",
    benchmark:
        "benchmarks/{dataset}/split.tsv"
    wildcard_constraints:
        dataset=alternatives(datasets_of_kind("penguins")),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        split=lambda wc: DATASETS[wc.dataset]["split"],
    script:
        "../scripts/split_penguins.py"


rule plot_penguins_pairplot:
    input:
        prepared="results/{dataset}/prepared.csv",
        code=package_code("penguins", "tabular", "plots"),
    output:
        report(
            "results/{dataset}/exploration/pairplot.png",
            caption="../report/pairplot.rst",
            category="{dataset}",
            subcategory="exploration",
            labels={"figure": "pair plot"},
        ),
    log:
        "logs/{dataset}/pairplot.log",
    benchmark:
        "benchmarks/{dataset}/pairplot.tsv"
    wildcard_constraints:
        dataset=alternatives(datasets_of_kind("penguins")),
    conda:
        "../envs/plot.yaml"
    threads: 1
    script:
        "../scripts/plot_pairplot.py"
