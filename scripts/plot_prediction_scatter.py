"""Predicted vs true values on the train and test sets, the baseline's beside the model's."""

from _rule import run

from dlwf.steps import weather


def main(snakemake):
    weather.prediction_scatter(snakemake.input.predictions, snakemake.params.label, snakemake.wildcards.experiment,
                               train_out=snakemake.output.train, test_out=snakemake.output.test)


run(main, snakemake)
