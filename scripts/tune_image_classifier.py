"""keras-tuner grid search for one experiment: trials table, best model and its history."""

from pathlib import Path

from _rule import run

from dlwf import runtime


def main(snakemake):
    runtime.configure_tensorflow(snakemake.threads)  # before Keras is imported
    from dlwf import tuning

    trials = tuning.tune_image_classifier(
        snakemake.wildcards.experiment,
        snakemake.params.spec,
        prepared_dir=str(Path(snakemake.input.classes).parent),
        tuner_dir=snakemake.output.tuner,
        model_out=snakemake.output.model,
        history_out=snakemake.output.history,
        trials_out=snakemake.output.trials,
        trials_history_out=snakemake.output.trials_history,
    )
    print(trials.to_string(index=False))


run(main, snakemake)
