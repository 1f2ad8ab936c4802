"""Evaluate a saved classifier (loaded from model.keras) on the test split."""

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import tabular

    i, out = snakemake.input, snakemake.output
    tabular.evaluate_classifier(snakemake.wildcards.experiment, snakemake.params.settings, i.model, i.history,
                                i.train, i.test, i.columns, list(i.raw), out.metrics, out.predictions, out.confusion)


run_with_tensorflow(main, snakemake)
