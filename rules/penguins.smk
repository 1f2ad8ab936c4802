# Episode 2: classify penguin species from four body measurements.


rule prepare_penguins:
    """The penguins table without incomplete rows (results/<dataset>/prepared.csv)."""
    input:
        raw=from_plan("raw_file"),
        code=code_inputs("prepare_penguins"),
    output:
        prepared="results/{dataset}/prepared.csv",
    log:
        "logs/{dataset}/prepare.log",
    benchmark:
        "benchmarks/{dataset}/prepare.tsv"
    wildcard_constraints:
        dataset=datasets_of("penguins"),
    conda:
        "../envs/data.yaml"
    threads: 1
    script:
        "../scripts/prepare_penguins.py"


rule split_penguins:
    """The stratified train/test split of the penguins table."""
    input:
        prepared="results/{dataset}/prepared.csv",
        code=code_inputs("split_penguins"),
    output:
        train="results/{dataset}/split/train.csv",
        test="results/{dataset}/split/test.csv",
        columns="results/{dataset}/split/columns.json",
    log:
        "logs/{dataset}/split.log",
    benchmark:
        "benchmarks/{dataset}/split.tsv"
    wildcard_constraints:
        dataset=datasets_of("penguins"),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        split=from_plan("split_settings"),
    script:
        "../scripts/split_penguins.py"


rule plot_penguins_pairplot:
    """The pair plot of the penguins' measurements, coloured by species."""
    input:
        prepared="results/{dataset}/prepared.csv",
        code=code_inputs("plot_pairplot"),
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
        dataset=datasets_of("penguins"),
    conda:
        "../envs/plot.yaml"
    threads: 1
    script:
        "../scripts/plot_pairplot.py"
