"""Evaluate a trained model's outputs on its tabular split (no TensorFlow): classifier or regressor."""

from _rule import figure_outputs, run


def main(snakemake):
    from dlwf.steps import tabular

    i, out = snakemake.input, snakemake.output
    split = {part: i.get(part) for part in ("train", "validation", "test", "columns")}
    tabular.evaluate(
        snakemake.wildcards.experiment,
        snakemake.params.settings,
        i.model,
        i.outputs,
        i.history,
        split,
        list(i.raw),
        out.metrics,
        out.predictions,
        confusion_out=out.get("confusion"),
        training_environment_json=i.training_environment,
        card_out=out.card,
        figures=figure_outputs(out),
        label=snakemake.params.get("label", "value"),
    )


run(main, snakemake)
