"""Predicted vs true values on the train and test sets, the baseline's beside the model's."""

from _rule import run

from dlwf import plots


def main(snakemake):
    for split in ("train", "test"):
        plots.save_prediction_scatter(
            snakemake.input.predictions,
            snakemake.output[split],
            split,
            label=snakemake.params.label,
            title=snakemake.wildcards.experiment,
        )


run(main, snakemake)
