"""Stratified train/test split with one-hot species targets."""

from _rule import run

from dlwf import fileio, penguins


def main(snakemake):
    prepared = penguins.read_prepared(snakemake.input.prepared)
    settings = snakemake.params.split
    train, test, classes = penguins.split(
        prepared, test_size=settings["test_size"], random_state=settings["random_state"]
    )
    print(f"train {len(train)} rows, test {len(test)} rows; test per class {test[classes].sum().to_dict()}")
    fileio.write_csv(train, snakemake.output.train)
    fileio.write_csv(test, snakemake.output.test)
    columns = {"features": penguins.FEATURES, "targets": classes, "task": "classification", "class_names": classes}
    fileio.write_json(columns, snakemake.output.columns)


run(main, snakemake)
