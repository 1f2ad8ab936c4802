"""keras-tuner grid search over builder arguments (episode 4's hyperparameter tuning).

The search space comes from the experiment's ``tuner.hyperparameters`` (checked when the plan
is made: every name is a builder argument); every trial builds the model with
:func:`dlwf.nn.training.build`, the experiment's seed set right before building, so a rerun
with the same config gives the same trials.

keras-tuner's project directory lives in the job's backup directory (:mod:`dlwf.nn.resume`; not a
rule output, so Snakemake leaves it alone when it deletes a killed job's outputs). An interrupted
search is resumed (``overwrite=False``): finished trials are not run again (their histories come
from their backups), the trial that was running goes on after its last backed-up epoch, and its
TensorBoard event files and keras-tuner's best-epoch checkpoint are restored with it.

keras-tuner needs the ``tensorboard`` package even when no TensorBoard logs are written;
without it every trial fails.
"""

from __future__ import annotations

from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pandas as pd

from dlwf.core import runtime
from dlwf.core.errors import TrainingError, WorkflowInputError

from . import resume, training

TRIALS = "trials"  # one backup per trial inside the job's backup directory: trials/<trial id>/
PROJECT = "tuner"  # keras-tuner's project directory inside the job's backup directory


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
            values[name] = hp.Float(
                name, min_value=float(spec["min"]), max_value=float(spec["max"]), step=float(spec["step"])
            )
        else:
            raise WorkflowInputError(f"{where}.{name}.type: unknown type {kind!r}")
        if kind != "choice" and spec["min"] > spec["max"]:
            raise WorkflowInputError(f"{where}.{name}: min {spec['min']} is larger than max {spec['max']}")
    return values


def _key(values: dict) -> tuple:
    return tuple(sorted(values.items()))


class ExperimentHyperModel(keras_tuner.HyperModel):
    """Builds the experiment's model for one grid point and records each trial's history."""

    def __init__(self, settings: dict, input_shape, n_classes: int, where: str, backup: resume.Job | None = None):
        super().__init__(name="search")
        self.settings = settings
        self.input_shape, self.n_classes = tuple(input_shape), n_classes
        self.where = where
        self.backup = backup
        self.histories: dict[tuple, pd.DataFrame] = {}

    def build(self, hp):
        values = declare(hp, self.settings["tuner"]["hyperparameters"], f"{self.where}.tuner.hyperparameters")
        model = training.build(
            self.settings,
            self.input_shape,
            self.n_classes,
            overrides=values,
            where=f"{self.where}.model (with tuner.hyperparameters)",
        )
        return training.compile_model(model, self.settings["training"])

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        """Fit one trial, backed up in ``trials/<trial id>/`` of the job's backup (resumed if it holds
        an interrupted run of the trial); the History returned (what keras-tuner scores the trial by)
        has every epoch, those of the interrupted run included."""
        callbacks = list(callbacks or [])
        trial = next((c.trial for c in callbacks if type(c).__name__ == "TunerCallback"), None)
        saver = None
        if self.backup is not None and trial is not None:
            saver = self.backup.callback(callbacks, subdir=f"{TRIALS}/{trial.trial_id}")
        history = model.fit(*args, callbacks=callbacks + ([saver] if saver else []), **kwargs)
        if saver is None:
            frame = training.history_frame(history)
        else:
            frame = saver.history()
            if saver.resumed_from is not None:
                self.backup.resumes.append({"trial": trial.trial_id, "after_epoch": saver.resumed_from})
            history.history = {c: frame[c].tolist() for c in frame.columns if c != "epoch"}
            history.epoch = [int(e) - 1 for e in frame["epoch"]]
        self.histories[_key(hp.values)] = frame
        return history


class ResumableGridSearchOracle(keras_tuner.oracles.GridSearchOracle):
    """keras-tuner's grid search oracle, whose place in the grid survives a reload.

    keras-tuner 1.4.8's GridSearchOracle does not save its ordered list of trials and its queue of
    trials to continue the grid from, so a GridSearch reloaded from its project directory fails
    (``KeyError`` in ``populate_space``) instead of going on. Both are added to the oracle's state
    here; a reloaded search then creates the same next trials as an uninterrupted one.
    """

    def get_state(self):
        state = super().get_state()
        order, links = [], self._ordered_ids
        index = links._next_index[None]
        while index is not None:
            order.append(links._memory[index])
            index = links._next_index[index]
        state["grid_order"] = order
        state["populate_next"] = list(self._populate_next)
        return state

    def set_state(self, state):
        super().set_state(state)
        self._ordered_ids = type(self._ordered_ids)()
        for trial_id in state.get("grid_order", []):
            self._ordered_ids.insert(trial_id)
        self._populate_next = list(state.get("populate_next", []))


def _trial_rows(tuner, hypermodel: ExperimentHyperModel, objective: str):
    rows, histories = [], []
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        values = dict(trial.hyperparameters.values)
        history = hypermodel.histories.get(_key(values))
        row = {"trial": trial_id, **values, "status": str(trial.status), "objective": objective, "score": trial.score}
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
    backup: resume.Job,
    where: str = "experiment",
    tensorboard_dir: str | Path | None = None,
    what: str | None = None,
) -> tuple[keras.Model, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run the grid search; return (best model, its history, one row per trial, every trial's history).

    ``backup`` is the job's backup (:mod:`dlwf.nn.resume`): it holds keras-tuner's project directory
    and every trial's backup, and an interrupted search is resumed from it. ``tensorboard_dir``:
    TensorBoard logs, one subdirectory per trial (``<trial>/execution0/{train,validation}``).
    The best model is the best trial's, with the weights of its best epoch (keras-tuner's
    checkpoint). Raises TrainingError when every trial failed or the best one's loss was NaN.
    """
    tuner_settings = settings["tuner"]
    objective = tuner_settings["objective"]
    notes: list[str] = []  # printed after the summary line, which comes first
    resuming = backup.open(log=notes.append)
    hypermodel = ExperimentHyperModel(settings, x.shape[1:], n_classes, where, backup)
    first = hypermodel.build(keras_tuner.HyperParameters())  # bad argument values fail here, naming the key
    space = " x ".join(tuner_settings["hyperparameters"])
    runtime.print_summary(
        training.summary_line(
            what or where,
            x,
            y,
            validation,
            first,
            settings["training"],
            backup,
            kind="TUNING",
            extra=f" at the first grid point (keras-tuner GridSearch over {space}, "
            f"max_trials {tuner_settings['max_trials']})",
            start="resuming the search from the backup" if resuming else "from the first trial",
        ),
        notes,
    )
    trials_dir = backup.directory / TRIALS
    if resuming and tensorboard_dir is not None and trials_dir.is_dir():
        for trial_backup in sorted(trials_dir.iterdir()):
            resume.restore_tensorboard(trial_backup, log=backup.log)
    oracle = ResumableGridSearchOracle(
        objective=objective, max_trials=tuner_settings["max_trials"], seed=settings["seed"]
    )
    # keras_tuner.GridSearch is this Tuner with keras-tuner's own GridSearchOracle
    tuner = keras_tuner.Tuner(
        oracle=oracle,
        hypermodel=hypermodel,
        directory=str(backup.directory),
        project_name=PROJECT,
        overwrite=not resuming,
    )
    done = []
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        state = backup.state(f"{TRIALS}/{trial_id}")
        if str(trial.status) == "COMPLETED" and state is not None:
            hypermodel.histories[_key(dict(trial.hyperparameters.values))] = resume.history_frame(state["history"])
            done.append(trial_id)
    if done:
        backup.resumes.append({"trials_not_run_again": done})
        backup.log(
            f"resumed the keras-tuner search from {backup.directory / PROJECT}: trial(s) {', '.join(done)} "
            "had finished before the job was interrupted and are not run again"
        )
    tuner.search_space_summary()
    tuner.search(
        x,
        y,
        epochs=settings["training"]["epochs"],
        batch_size=settings["training"]["batch_size"],
        validation_data=validation,
        callbacks=training.make_callbacks(settings["training"], tensorboard_dir),
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
