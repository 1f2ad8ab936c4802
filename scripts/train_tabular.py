"""Train one experiment on tabular split files and save model.keras + history.csv."""

from _rule import run

from dlwf import runtime


def main(snakemake):
    runtime.configure_tensorflow(snakemake.threads)  # before Keras is imported
    from dlwf import experiment

    split = snakemake.input
    experiment.train_tabular(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        train_csv=split.train,
        columns_json=split.columns,
        model_out=snakemake.output.model,
        history_out=snakemake.output.history,
        validation_csv=split.get("validation"),
        tensorboard_dir=snakemake.output.get("tensorboard"),
    )


run(main, snakemake)
