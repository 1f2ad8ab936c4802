"""keras-tuner grid search over builder arguments (episode 4's hyperparameter tuning).

The search space comes from the experiment's ``tuner.hyperparameters``; every trial builds
the model with the experiment's seed set right before building, so a rerun with the same
config gives the same trials. The tuner's working directory is a path the caller owns (the
experiment's ``tuner/`` directory) and is overwritten, never resumed.

keras-tuner needs the ``tensorboard`` package even when no TensorBoard logs are written;
without it every trial fails.
"""

from __future__ import annotations

from pathlib import Path

import keras
import keras_tuner
import pandas as pd

from . import image_experiment, training
from .errors import TrainingError, WorkflowInputError
from .fileio import write_csv


def declare(hp: keras_tuner.HyperParameters, space: dict, where: str) -> dict:
    """Declare every search space of ``space`` on ``hp`` (in order); return the chosen values."""
    values = {}
    for name, spec in space.items():
        kind = spec["type"]
        if kind == "choice":
            values[name] = hp.Choice(name, list(spec["values"]))
        elif kind == "int":
            if any(float(spec[k]) != int(spec[k]) for k in ("min", "max", "step")):
                raise WorkflowInputError(f"{where}.{name}: type int needs integer min, max and step")
            values[name] = hp.Int(name, min_value=int(spec["min"]), max_value=int(spec["max"]), step=int(spec["step"]))
        elif kind == "float":
            values[name] = hp.Float(name, min_value=float(spec["min"]), max_value=float(spec["max"]),
                                    step=float(spec["step"]))
        else:
            raise WorkflowInputError(f"{where}.{name}.type: unknown type {kind!r}")
        if kind != "choice" and spec["min"] > spec["max"]:
            raise WorkflowInputError(f"{where}.{name}: min {spec['min']} is larger than max {spec['max']}")
    return values


def _key(values: dict) -> tuple:
    return tuple(sorted(values.items()))


class ExperimentHyperModel(keras_tuner.HyperModel):
    """Builds the experiment's model for one grid point and records each trial's history."""

    def __init__(self, experiment: str, spec: dict, input_shape, n_classes: int):
        super().__init__(name=experiment)
        self.experiment, self.spec = experiment, spec
        self.input_shape, self.n_classes = tuple(input_shape), n_classes
        self.where = f"experiments.{experiment}.tuner.hyperparameters"
        self.histories: dict[tuple, pd.DataFrame] = {}

    def build(self, hp):
        values = declare(hp, self.spec["tuner"]["hyperparameters"], self.where)
        model = image_experiment.build(
            self.experiment, self.spec, self.input_shape, self.n_classes, overrides=values,
            where=f"experiments.{self.experiment}.model (with tuner.hyperparameters)",
        )
        return training.compile_model(model, self.spec["training"])

    def fit(self, hp, model, *args, **kwargs):
        history = model.fit(*args, **kwargs)
        self.histories[_key(hp.values)] = training.history_frame(history)
        return history


def _trial_rows(tuner, hypermodel: ExperimentHyperModel, objective: str):
    rows, histories = [], []
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        values = dict(trial.hyperparameters.values)
        history = hypermodel.histories.get(_key(values))
        row = {"trial": trial_id, **values, "status": str(trial.status), "objective": objective,
               "score": trial.score}
        if history is not None and trial.best_step is not None and trial.best_step < len(history):
            best = history.iloc[int(trial.best_step)]  # the epoch the score comes from
            row["best_epoch"] = int(best["epoch"])
            for column in ("val_loss", "val_accuracy", "loss", "accuracy"):
                if column in best:
                    row[column] = float(best[column])
        rows.append(row)
        if history is not None:
            frame = history.copy()
            for i, (name, value) in enumerate(values.items()):
                frame.insert(i, name, value)
            frame.insert(0, "trial", trial_id)
            histories.append(frame)
    return pd.DataFrame(rows), (pd.concat(histories, ignore_index=True) if histories else pd.DataFrame())


def tune_image_classifier(
    experiment: str,
    spec: dict,
    prepared_dir: str,
    tuner_dir: str,
    model_out: str,
    history_out: str,
    trials_out: str,
    trials_history_out: str,
) -> pd.DataFrame:
    """Run the grid search; write every trial's hyperparameters and score, the best model and its history."""
    classes, (x_train, y_train), validation = image_experiment.load_data(prepared_dir, spec)
    settings, objective = spec["tuner"], spec["tuner"].get("objective", "val_loss")
    hypermodel = ExperimentHyperModel(experiment, spec, x_train.shape[1:], classes["n_classes"])
    hypermodel.build(keras_tuner.HyperParameters())  # bad argument names fail here, naming the key
    tuner_path = Path(tuner_dir)
    tuner = keras_tuner.GridSearch(
        hypermodel,
        objective=objective,
        max_trials=settings.get("max_trials"),
        seed=spec["seed"],
        directory=str(tuner_path.parent),
        project_name=tuner_path.name,
        overwrite=True,
    )
    tuner.search_space_summary()
    tuner.search(
        x_train,
        y_train,
        epochs=spec["training"]["epochs"],
        batch_size=spec["training"].get("batch_size", 32),
        validation_data=validation,
        callbacks=training.make_callbacks(spec["training"]),
        verbose=2,
    )
    tuner.results_summary()
    trials, histories = _trial_rows(tuner, hypermodel, objective)
    if trials.empty or trials["score"].isna().all():
        raise TrainingError(f"experiments.{experiment}: every tuner trial failed; see the log above")
    best_trial = tuner.oracle.get_best_trials(1)[0]
    best_values = dict(best_trial.hyperparameters.values)
    history = hypermodel.histories[_key(best_values)]
    training.check_finite(history)
    # the best trial's model, with the weights of its best epoch (keras-tuner's checkpoint)
    model: keras.Model = tuner.get_best_models(num_models=1)[0]
    print(f"best trial {best_trial.trial_id}: {best_values}, {objective} {best_trial.score}")
    image_experiment.save_model(model, model_out)
    write_csv(history, history_out)
    write_csv(trials, trials_out)
    write_csv(histories, trials_history_out)
    return trials
