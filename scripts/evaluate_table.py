"""Evaluate a trained model's outputs on its tabular split (no TensorFlow): classifier or regressor."""

from _rule import run


def main(snakemake):
    from dlwf.steps import tabular

    i, out = snakemake.input, snakemake.output
    split = {part: i.get(part) for part in ("train", "validation", "test", "columns")}
    tabular.evaluate(snakemake.wildcards.experiment, snakemake.params.settings, i.model, i.outputs, i.history, split,
                     list(i.raw), out.metrics, out.predictions, confusion_out=out.get("confusion"),
                     training_environment_json=i.training_environment)


run(main, snakemake)
