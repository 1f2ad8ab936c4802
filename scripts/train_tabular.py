"""Train one experiment on tabular split files; save model.keras, history.csv and its outputs on every split."""

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import tabular

    i, out = snakemake.input, snakemake.output
    tabular.train(snakemake.wildcards.experiment, snakemake.params.settings, i.train, i.columns, out.model,
                  out.history, out.outputs, i.test, validation_csv=i.get("validation"),
                  tensorboard_dir=out.get("tensorboard"), environment_out=out.environment)


run_with_tensorflow(main, snakemake)
