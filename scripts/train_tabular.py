"""Train one experiment on tabular split files and save model.keras + history.csv."""

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import tabular

    split = snakemake.input
    tabular.train(snakemake.wildcards.experiment, snakemake.params.settings, split.train, split.columns,
                  snakemake.output.model, snakemake.output.history, validation_csv=split.get("validation"),
                  tensorboard_dir=snakemake.output.get("tensorboard"), environment_out=snakemake.output.environment)


run_with_tensorflow(main, snakemake)
