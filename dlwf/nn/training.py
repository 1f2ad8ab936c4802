"""Seed, build, compile and fit a model from an experiment's settings; the history as a table.

:func:`train` is the one routine every kind of experiment trains with (tables, images, sweep
points, transfer heads); the keras-tuner search (:mod:`dlwf.nn.tuning`) builds each trial with
:func:`build` and compiles it with :func:`compile_model`. ``settings`` is an experiment's
canonical settings (``dlwf.plan.experiments.Experiment.settings``): defaults are filled in.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from dlwf.core import runtime
from dlwf.core.errors import TrainingError

from . import resume
from .builders import build_model

LOSSES = {
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
    "mse": keras.losses.MeanSquaredError,
}
OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}


def make_metric(name: str):
    """Return the Keras metric for a config metric name ('accuracy', 'rmse', 'mae')."""
    if name == "rmse":
        return keras.metrics.RootMeanSquaredError(name="rmse")
    if name == "mae":
        return keras.metrics.MeanAbsoluteError(name="mae")
    return name


def compile_model(model: keras.Model, training: dict) -> keras.Model:
    """Compile ``model`` with the optimizer, loss and metrics named in ``training``."""
    optimizer_args = {}
    if training["learning_rate"] is not None:
        optimizer_args["learning_rate"] = training["learning_rate"]
    loss_cls = LOSSES[training["loss"]]
    loss = loss_cls(from_logits=True) if training["from_logits"] else loss_cls()
    model.compile(
        optimizer=OPTIMIZERS[training["optimizer"]](**optimizer_args),
        loss=loss,
        metrics=[make_metric(m) for m in training["metrics"]],
    )
    return model


class TensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback that also flushes its event files at the end of every epoch, so
    ``tensorboard --logdir results/<dataset>`` shows a running job's curves up to its last epoch
    (Keras' writers flush every two minutes) and a backup holds complete event records.

    Named like Keras' class on purpose: keras-tuner recognises a TensorBoard callback by its class
    name and then gives each trial its own log directory (``<log_dir>/<trial>/execution0``).
    """

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        for writer in self._writers.values():
            writer.flush()


def make_callbacks(training: dict, tensorboard_dir: str | Path | None = None) -> list:
    """Return the callbacks asked for: NaN guard always, early stopping and TensorBoard if set
    (a backup, :mod:`dlwf.nn.resume`, is added by :func:`fit` after these, as it must be)."""
    callbacks: list = [keras.callbacks.TerminateOnNaN()]
    stop = training.get("early_stopping")
    if stop:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=stop["monitor"],
                patience=stop["patience"],
                min_delta=stop["min_delta"],
                restore_best_weights=stop["restore_best_weights"],
            )
        )
    if tensorboard_dir is not None:
        callbacks.append(
            TensorBoard(log_dir=str(tensorboard_dir), histogram_freq=int(training["tensorboard_histograms"]))
        )
    return callbacks


def history_frame(history: keras.callbacks.History) -> pd.DataFrame:
    """Return one row per epoch (1-based 'epoch' column) with every logged metric."""
    frame = pd.DataFrame(history.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return frame


def check_finite(history: pd.DataFrame) -> None:
    """Raise TrainingError if the training loss became NaN or infinite."""
    bad = [i for i, v in enumerate(history["loss"]) if not math.isfinite(v)]
    if bad:
        raise TrainingError(
            f"training loss became {history['loss'].iloc[bad[0]]} in epoch {bad[0] + 1}; training was "
            "stopped and no model was kept. Lower training.learning_rate or check the inputs for "
            "extreme values"
        )


def fit(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    training: dict,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    tensorboard_dir: str | Path | None = None,
    backup: resume.Job | None = None,
) -> pd.DataFrame:
    """Train ``model`` in place and return its history table; raise on a NaN loss.

    With ``backup`` (opened by the caller) the training is backed up as it goes and, if the backup
    holds an interrupted run of this job, resumed from it (:mod:`dlwf.nn.resume`); the history then
    has every epoch once, those of the interrupted run included. A NaN loss removes the backup.
    """
    callbacks = make_callbacks(training, tensorboard_dir)
    saver = backup.callback(callbacks) if backup is not None else None  # None also when disabled
    history = model.fit(
        tensors(x),
        y,
        batch_size=training["batch_size"],
        epochs=training["epochs"],
        validation_data=(tensors(validation[0]), validation[1]) if validation else None,
        callbacks=callbacks + ([saver] if saver else []),
        verbose=2,
    )
    frame = saver.history() if saver else history_frame(history)
    if saver is not None and saver.resumed_from is not None:
        backup.resumes.append({"after_epoch": saver.resumed_from})
    try:
        check_finite(frame)
    except TrainingError:
        if backup is not None:
            backup.finish()  # a rerun must not resume into the same divergence
        raise
    return frame


def tensors(x):
    """``x`` as Keras takes it: numpy arrays as they are; text columns (the categorical inputs of a
    table, object arrays) as TensorFlow string tensors, which Keras 3 needs for string inputs."""
    if isinstance(x, dict):
        return {name: tensors(value) for name, value in x.items()}
    if isinstance(x, np.ndarray) and x.dtype.kind in "OUS":
        import tensorflow as tf

        return tf.constant(x.astype(str))
    return x


def build(
    settings: dict,
    input_shape,
    n_outputs: int,
    overrides: dict | None = None,
    adapt_data: np.ndarray | None = None,
    where: str = "model",
    vocabularies: dict[str, list[str]] | None = None,
) -> keras.Model:
    """Seed, then build the experiment's model with ``overrides`` on top of ``model.args``.

    The seed is set right before building, as the lesson does, so every run starts from the
    same weights (``keras.utils.set_random_seed``: Python, NumPy and TensorFlow).
    """
    keras.utils.set_random_seed(settings["seed"])
    args = {**settings["model"]["args"], **(overrides or {})}
    return build_model(
        settings["model"]["builder"],
        input_shape=tuple(input_shape),
        n_outputs=n_outputs,
        args=args,
        adapt_data=adapt_data,
        where=where,
        vocabularies=vocabularies,
    )


def shape_text(x) -> str:
    """'(273, 4)' of an array, 'features (273, 4) + island (273, 1)' of a dict of named inputs."""
    if isinstance(x, dict):
        return " + ".join(f"{name} {tuple(np.shape(v))}" for name, v in x.items())
    return str(tuple(np.shape(x)))


def summary_line(
    what: str,
    x,
    y,
    validation,
    model: keras.Model,
    training: dict,
    backup: resume.Job | None,
    state: dict | None = None,
    extra: str = "",
    kind: str = "TRAINING",
    start: str | None = None,
) -> str:
    """The one line a training log starts with: what is trained, on which data, how big, where, how long.

    ``what`` names the experiment; ``state`` is the backup being resumed (None: from epoch 1), or
    ``start`` says where it starts.
    """
    import tensorflow as tf

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    validation_text = f", validation {shape_text(validation[0])}" if validation else ", no validation data"
    if start is not None:
        pass
    elif state is None:
        start = "from epoch 1"
    elif state.get("finished"):
        start = f"training had finished (epoch {state['epochs_done']}): resumed from the backup"
    else:
        start = f"resuming after epoch {state['epochs_done']} from the backup"
    enabled = backup is not None and backup.enabled
    where = f"; backup {backup.directory}" if enabled else "; no backup (resume.enabled: false)"
    return (
        f"{kind} {what}: inputs {shape_text(x)} -> targets {tuple(np.shape(y))}{validation_text}; "
        f"{model.name}, {model.count_params():,} parameters ({trainable:,} trainable){extra}; "
        f"{training['epochs']} epochs, batch {training['batch_size']}, {training['optimizer']}; "
        f"TensorFlow {tf.__version__} on {runtime.device()}; {start}{where}"
    )


def train(
    settings: dict,
    x,
    y: np.ndarray,
    n_outputs: int,
    validation: tuple | None = None,
    tensorboard_dir: str | Path | None = None,
    where: str = "model",
    vocabularies: dict[str, list[str]] | None = None,
    backup: resume.Job | None = None,
    what: str | None = None,
) -> tuple[keras.Model, pd.DataFrame]:
    """Seed, build, compile and fit the experiment's model on (x, y); return (model, history table).

    ``x`` is (N, ...) float32 inputs, or for tables with categorical features a dict {'features':
    (N, k) float32, '<input>': strings (N, 1), ...} with ``vocabularies`` (input -> categories);
    ``y`` one-hot (N, classes), class indices (N,) or targets (N, 1); ``validation`` the same pair
    for the validation data, or None. A ``dense`` model with ``normalize`` adapts its Normalization
    layer on the numeric features. Raises TrainingError on a NaN loss.

    ``backup``: back the training up and resume an interrupted run of this job (:mod:`dlwf.nn.resume`);
    its TensorBoard event files up to the backed-up epoch go back into ``tensorboard_dir`` first.
    ``what`` names the experiment in the summary line printed first (:func:`summary_line`).
    """
    notes: list[str] = []  # printed after the summary line, which comes first
    state = backup.state() if backup is not None and backup.open(log=notes.append) else None
    numeric = x.get("features") if isinstance(x, dict) else x
    shape = numeric.shape[1:] if numeric is not None else (0,)
    model = build(settings, shape, n_outputs, adapt_data=numeric, where=where, vocabularies=vocabularies)
    compile_model(model, settings["training"])
    line = summary_line(what or where, x, y, validation, model, settings["training"], backup, state)
    runtime.print_summary(line, notes)
    if state is not None and tensorboard_dir is not None:  # before fit: its TensorBoard callback writes at once
        resume.restore_tensorboard(backup.directory, log=backup.log)
    model.summary(print_fn=print)
    history = fit(model, x, y, settings["training"], validation, tensorboard_dir, backup)
    return model, history
