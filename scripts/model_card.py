"""Write the model card of a trained model: data, inputs, performance, how to load and predict."""

from _rule import run

from dlwf.steps import predict


def main(snakemake):
    i = snakemake.input
    predict.model_card(snakemake.wildcards.experiment, snakemake.params.settings, snakemake.params.description,
                       i.metrics, i.data, i.model, snakemake.output[0])


run(main, snakemake)
