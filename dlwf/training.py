"""Compile and fit a model from an experiment's ``training`` settings; history as a table."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from .errors import TrainingError

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
    if training.get("learning_rate") is not None:
        optimizer_args["learning_rate"] = training["learning_rate"]
    loss_cls = LOSSES[training["loss"]]
    loss = loss_cls(from_logits=True) if training.get("from_logits") else loss_cls()
    model.compile(
        optimizer=OPTIMIZERS[training.get("optimizer", "adam")](**optimizer_args),
        loss=loss,
        metrics=[make_metric(m) for m in training.get("metrics", [])],
    )
    return model


def make_callbacks(training: dict, tensorboard_dir: str | Path | None = None) -> list:
    """Return the callbacks asked for: NaN guard always, early stopping and TensorBoard if set."""
    callbacks: list = [keras.callbacks.TerminateOnNaN()]
    stop = training.get("early_stopping")
    if stop:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=stop.get("monitor", "val_loss"),
                patience=stop.get("patience", 10),
                min_delta=stop.get("min_delta", 0.0),
                restore_best_weights=stop.get("restore_best_weights", False),
            )
        )
    if tensorboard_dir is not None:
        callbacks.append(
            keras.callbacks.TensorBoard(
                log_dir=str(tensorboard_dir), histogram_freq=int(training.get("tensorboard_histograms", 0))
            )
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
) -> pd.DataFrame:
    """Train ``model`` in place and return its history table; raise on a NaN loss."""
    history = model.fit(
        x,
        y,
        batch_size=training.get("batch_size", 32),
        epochs=training["epochs"],
        validation_data=validation,
        callbacks=make_callbacks(training, tensorboard_dir),
        verbose=2,
    )
    frame = history_frame(history)
    check_finite(frame)
    return frame
