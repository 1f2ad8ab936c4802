"""Train one experiment on tabular split files; save model.keras, history.csv and its outputs on every split."""

from pathlib import Path

from _rule import backup, run_with_tensorflow


def main(snakemake):
    from dlwf.core.fileio import backup_dir
    from dlwf.steps import tabular

    i, out, w = snakemake.input, snakemake.output, snakemake.wildcards
    job = backup(snakemake, backup_dir(Path(out.history).parent), snakemake.params.settings)
    tabular.train(
        w.experiment,
        snakemake.params.settings,
        i.train,
        i.columns,
        out.model,
        out.history,
        out.outputs,
        i.test,
        validation_csv=i.get("validation"),
        tensorboard_dir=out.get("tensorboard"),
        environment_out=out.environment,
        backup=job,
    )


run_with_tensorflow(main, snakemake, announce=False)
