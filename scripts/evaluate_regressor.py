"""Evaluate a saved regressor (loaded from model.keras) and the baseline on train, validation and test."""

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import tabular

    i, out = snakemake.input, snakemake.output
    tabular.evaluate_regressor(snakemake.wildcards.experiment, snakemake.params.settings, i.model, i.history,
                               i.train, i.test, i.columns, list(i.raw), out.metrics, out.predictions,
                               validation_csv=i.get("validation"))


run_with_tensorflow(main, snakemake)
