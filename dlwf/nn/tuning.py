"""keras-tuner grid search over builder arguments (episode 4's hyperparameter tuning).

The search space comes from the experiment's ``tuner.hyperparameters`` (checked when the plan
is made: every name is a builder argument); every trial builds the model with
:func:`dlwf.nn.training.build`, the experiment's seed set right before building, so a rerun
with the same config gives the same trials. The tuner's working directory is a path the caller
owns (the experiment's ``tuner/`` directory) and is overwritten, never resumed.

keras-tuner needs the ``tensorboard`` package even when no TensorBoard logs are written;
without it every trial fails.
"""

from __future__ import annotations

from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pandas as pd

from dlwf.core.errors import TrainingError, WorkflowInputError

from . import training


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

    def __init__(self, settings: dict, input_shape, n_classes: int, where: str):
        super().__init__(name="search")
        self.settings = settings
        self.input_shape, self.n_classes = tuple(input_shape), n_classes
        self.where = where
        self.histories: dict[tuple, pd.DataFrame] = {}

    def build(self, hp):
        values = declare(hp, self.settings["tuner"]["hyperparameters"], f"{self.where}.tuner.hyperparameters")
        model = training.build(
            self.settings, self.input_shape, self.n_classes, overrides=values,
            where=f"{self.where}.model (with tuner.hyperparameters)",
        )
        return training.compile_model(model, self.settings["training"])

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


def search(
    settings: dict,
    x: np.ndarray,
    y: np.ndarray,
    validation: tuple[np.ndarray, np.ndarray],
    n_classes: int,
    tuner_dir: str | Path,
    where: str = "experiment",
) -> tuple[keras.Model, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run the grid search; return (best model, its history, one row per trial, every trial's history).

    The best model is the best trial's, with the weights of its best epoch (keras-tuner's
    checkpoint). Raises TrainingError when every trial failed or the best one's loss was NaN.
    """
    tuner_settings = settings["tuner"]
    objective = tuner_settings["objective"]
    hypermodel = ExperimentHyperModel(settings, x.shape[1:], n_classes, where)
    hypermodel.build(keras_tuner.HyperParameters())  # bad argument values fail here, naming the key
    tuner_path = Path(tuner_dir)
    tuner = keras_tuner.GridSearch(
        hypermodel,
        objective=objective,
        max_trials=tuner_settings["max_trials"],
        seed=settings["seed"],
        directory=str(tuner_path.parent),
        project_name=tuner_path.name,
        overwrite=True,
    )
    tuner.search_space_summary()
    tuner.search(
        x,
        y,
        epochs=settings["training"]["epochs"],
        batch_size=settings["training"]["batch_size"],
        validation_data=validation,
        callbacks=training.make_callbacks(settings["training"]),
        verbose=2,
    )
    tuner.results_summary()
    trials, histories = _trial_rows(tuner, hypermodel, objective)
    if trials.empty or trials["score"].isna().all():
        raise TrainingError(f"{where}: every tuner trial failed; see the log above")
    best_trial = tuner.oracle.get_best_trials(1)[0]
    best_values = dict(best_trial.hyperparameters.values)
    history = hypermodel.histories[_key(best_values)]
    training.check_finite(history)
    model: keras.Model = tuner.get_best_models(num_models=1)[0]
    print(f"best trial {best_trial.trial_id}: {best_values}, {objective} {best_trial.score}")
    return model, history, trials, histories
