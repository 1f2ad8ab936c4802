# Datasets of kind `table`: any CSV/TSV with a target column; the lesson's penguins (episode 2)
# are one. Prepared (feature and target columns, rows with missing values handled), split
# (stratified for classification) and explored here; training and evaluation are in tabular.smk.


rule prepare_table:
    """The table's feature and target columns, rows with missing values handled (prepared.csv, prepared.json)."""
    input:
        raw=from_plan("raw_file"),
    output:
        prepared="results/{dataset}/prepared.csv",
        info="results/{dataset}/prepared.json",
    log:
        "logs/{dataset}/prepare.log",
    benchmark:
        "benchmarks/{dataset}/prepare.tsv"
    wildcard_constraints:
        dataset=datasets_of("table"),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        table=from_plan("table_settings"),
        code=code_version("prepare_table"),
    script:
        "../scripts/prepare_table.py"


rule split_table:
    """The train/test split of a table (stratified by class for classification) and columns.json."""
    input:
        prepared="results/{dataset}/prepared.csv",
        info="results/{dataset}/prepared.json",
    output:
        train="results/{dataset}/split/train.csv",
        test="results/{dataset}/split/test.csv",
        columns="results/{dataset}/split/columns.json",
    log:
        "logs/{dataset}/split.log",
    benchmark:
        "benchmarks/{dataset}/split.tsv"
    wildcard_constraints:
        dataset=alternatives(PLAN.table_ids(validation=False)),
    conda:
        "../envs/data.yaml"
    threads: 1
    params:
        split=from_plan("table_split"),
        code=code_version("split_table"),
    script:
        "../scripts/split_table.py"


# The same split for tables with `split.validation_size`, which also hold out val.csv.
use rule split_table as split_table_with_validation with:
    output:
        train="results/{dataset}/split/train.csv",
        val="results/{dataset}/split/val.csv",
        test="results/{dataset}/split/test.csv",
        columns="results/{dataset}/split/columns.json",
    wildcard_constraints:
        dataset=alternatives(PLAN.table_ids(validation=True)),


rule plot_table_pairplot:
    """The pair plot of the table's numeric features (coloured by class for classification)."""
    input:
        prepared="results/{dataset}/prepared.csv",
        info="results/{dataset}/prepared.json",
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
        dataset=datasets_of("table"),
    conda:
        "../envs/plot.yaml"
    threads: 1
    params:
        code=code_version("plot_pairplot"),
    script:
        "../scripts/plot_pairplot.py"
