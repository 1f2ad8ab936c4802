"""Evaluate the assembled transfer model (model.keras) on the raw validation images."""

from pathlib import Path

from _rule import figure_outputs, run_with_tensorflow


def main(snakemake):
    from dlwf.steps import transfer

    i, out = snakemake.input, snakemake.output
    transfer.evaluate(
        snakemake.wildcards.experiment,
        snakemake.params.settings,
        i.model,
        i.head,
        i.history,
        str(Path(i.classes).parent),
        i.test_features,
        i.base,
        list(i.raw),
        {"feature_pass_s": i.features_benchmark, "head_training_s": i.head_benchmark},
        out.metrics,
        out.predictions,
        out.confusion,
        i.training_environment,
        card_out=out.card,
        figures=figure_outputs(out),
    )


run_with_tensorflow(main, snakemake)
