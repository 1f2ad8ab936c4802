"""Train image classifiers (episode 4) on a prepared image dataset.

As in the lesson, the test files are the validation data: they drive the curves and early
stopping. :mod:`dlwf.image_evaluation` evaluates the saved models.
"""

from __future__ import annotations

import keras
import numpy as np

from . import (
    image_models,  # noqa: F401 - registers the image builders
    images,
    training,
)
from .fileio import atomic_path, write_csv, write_json
from .models import build_model


def load_data(prepared_dir: str, spec: dict):
    """Return (classes, (x_train, y_train), validation or None), images scaled to [0, 1]."""
    classes = images.read_classes(prepared_dir)
    n_classes = classes["n_classes"]
    x_train, y_train = images.load_split(prepared_dir, "train", n_classes)
    validation = None
    if spec["training"].get("validation") == "test":
        x_val, y_val = images.load_split(prepared_dir, "test", n_classes)
        validation = (images.scale(x_val), y_val)
    return classes, (images.scale(x_train), y_train), validation


def build(experiment: str, spec: dict, input_shape, n_classes: int, overrides: dict | None = None,
          where: str | None = None) -> keras.Model:
    """Seed, then build the experiment's model with ``overrides`` on top of ``model.args``."""
    # the lesson sets the seed right before building, so every run starts from the same weights
    keras.utils.set_random_seed(spec["seed"])
    args = {**(spec["model"].get("args") or {}), **(overrides or {})}
    return build_model(
        spec["model"]["builder"],
        input_shape=tuple(input_shape),
        n_outputs=n_classes,
        args=args,
        where=where or f"experiments.{experiment}.model",
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    """Return row-wise softmax probabilities of ``logits`` (numerically stable)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def save_model(model: keras.Model, dest: str) -> None:
    with atomic_path(dest, suffix=".keras") as tmp:
        model.save(tmp)


def train_image_classifier(
    experiment: str,
    spec: dict,
    prepared_dir: str,
    model_out: str,
    history_out: str,
    overrides: dict | None = None,
    where: str | None = None,
):
    """Build, train and save one model; return (model, history table, validation data)."""
    classes, (x_train, y_train), validation = load_data(prepared_dir, spec)
    model = build(experiment, spec, x_train.shape[1:], classes["n_classes"], overrides, where)
    training.compile_model(model, spec["training"])
    model.summary(print_fn=print)
    history = training.fit(model, x_train, y_train, spec["training"], validation)
    save_model(model, model_out)
    write_csv(history, history_out)
    return model, history, validation


def train_sweep_point(
    experiment: str,
    spec: dict,
    prepared_dir: str,
    arg: str,
    value,
    model_out: str,
    history_out: str,
    evaluation_out: str,
    environment: dict | None = None,
) -> dict:
    """Train the sweep's model with ``arg=value``; write its final validation loss and accuracy.

    ``environment`` (library versions, device) is stored with the scores for metrics.json.
    """
    model, history, validation = train_image_classifier(
        experiment, spec, prepared_dir, model_out, history_out, overrides={arg: value},
        where=f"experiments.{experiment}.model (with sweep.arg {arg!r})",
    )
    # the lesson evaluates the model as training left it (early stopping keeps the last weights)
    scores = model.evaluate(*validation, verbose=0, return_dict=True)
    best = int(history["val_loss"].idxmin())
    record = {
        "experiment": experiment,
        "arg": arg,
        "value": value,
        "val_loss": float(scores["loss"]),
        "val_accuracy": float(scores["accuracy"]),
        "epochs_run": int(len(history)),
        "stopped_early": bool(len(history) < spec["training"]["epochs"]),
        "best_epoch": int(history["epoch"].iloc[best]),
        "best_val_loss": float(history["val_loss"].iloc[best]),
        "n_parameters": int(model.count_params()),
        "environment": environment or {},
    }
    write_json(record, evaluation_out)
    return record
