"""Evaluate a saved model (loaded from model.keras) on its tabular split: classifier or regressor."""

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import tabular

    i, out = snakemake.input, snakemake.output
    split = {part: i.get(part) for part in ("train", "validation", "test", "columns")}
    tabular.evaluate(snakemake.wildcards.experiment, snakemake.params.settings, i.model, i.history, split,
                     list(i.raw), out.metrics, out.predictions, confusion_out=out.get("confusion"),
                     training_environment_json=i.training_environment)


run_with_tensorflow(main, snakemake)
