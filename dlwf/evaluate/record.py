"""THE ``metrics.json`` record: every evaluation (table, image, sweep, transfer) assembles it here.

Pure functions: arrays and facts in, a JSON-ready dict (and the tables written beside it) out;
``dlwf.steps`` reads the files, computes checksums and writes the results. The contract every
record keeps (the leaderboard and the reports read it):

``experiment``, ``dataset``, ``task``
    who and what ('classification' or 'regression').
``primary_metric``
    ``{"name", "value", "higher_is_better"}``: accuracy, or RMSE on the test set.
``metrics``, ``baseline``, ``beats_baseline``
    all scores; the baseline's on the SAME test set (majority class of the training set, or the
    dataset's naive prediction); whether the model beats it.
``n_parameters``, ``epochs_run``, ``stopped_early``, ``model_epoch``, ``samples``, ``test_set``
    facts of the run: parameter count, epochs trained, early stopping triggered, the epoch whose
    weights the model has (``model_epoch_note`` says why: the last one, or the best one kept by
    keras-tuner or restore_best_weights), the number of samples per split, and the file and md5 of
    the test set (records compare only on the same test set).
``provenance``
    ``dataset_md5`` of the raw files, ``config`` (the experiment's canonical settings) and its
    ``config_hash``, ``workflow_version`` (``dlwf.__version__``), ``git_commit``, ``environment``
    (library versions, device, GPUs requested and seen, warnings) of the job that wrote the record
    and ``training_environment``, the same of the job that trained the model (null if unknown).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlwf.core import provenance

from . import metrics

MAJORITY = "majority class of the training set"
LESSON_VALIDATION = "validation set (the dataset's test files, as in the lesson)"


def model_epoch(history: pd.DataFrame, settings: dict) -> tuple[int, str]:
    """Return (the 1-based epoch whose weights the trained model has, why) from its history.

    keras-tuner keeps the best epoch of the best trial (by the tuner's objective); early stopping
    with ``restore_best_weights`` restores the best epoch of the monitored value (as Keras picks
    it: the first value that beats the best so far by more than ``min_delta``); otherwise the
    model is as the last epoch left it.
    """
    epochs = len(history)
    training = settings["training"]
    stop = training.get("early_stopping") or {}
    if settings.get("tuner"):
        monitor, min_delta, why = settings["tuner"]["objective"], 0.0, "keras-tuner keeps the best epoch"
    elif stop.get("restore_best_weights"):
        monitor, min_delta = stop["monitor"], float(stop.get("min_delta", 0.0))
        why = "early_stopping.restore_best_weights keeps the best epoch"
    else:
        return epochs, "the last epoch (the model is as training left it)"
    if monitor not in history:
        return epochs, f"the last epoch ({monitor} is not in the training history)"
    higher = "acc" in monitor.removeprefix("val_")
    best, best_epoch = None, epochs
    for epoch, value in zip(history["epoch"], history[monitor], strict=True):
        if best is None or (value - min_delta > best if higher else value + min_delta < best):
            best, best_epoch = value, int(epoch)
    return best_epoch, f"the best {monitor} ({best:.4g}); {why}"


def base_record(
    experiment: str,
    settings: dict,
    n_parameters: int,
    history: pd.DataFrame,
    test_set: dict,
    dataset_md5: dict,
    environment: dict,
    training_environment: dict | None = None,
    samples: dict | None = None,
) -> dict:
    """Return the fields every record has (see the module docstring); ``test_set`` is {file, md5},
    ``history`` the training history (history.csv), ``samples`` {split: number of samples}."""
    epochs_run = len(history)
    early_stopping = settings["training"].get("early_stopping")
    epoch, why = model_epoch(history, settings)
    return {
        "experiment": experiment,
        "dataset": settings["dataset"],
        "n_parameters": int(n_parameters),
        "epochs_run": int(epochs_run),
        "stopped_early": bool(early_stopping) and epochs_run < settings["training"]["epochs"],
        "model_epoch": int(epoch),
        "model_epoch_note": why,
        "samples": {split: int(n) for split, n in (samples or {}).items()},
        "test_set": dict(test_set),
        "provenance": {
            "dataset_md5": dict(dataset_md5),
            "config": settings,
            "config_hash": provenance.config_hash(settings),
            "workflow_version": provenance.workflow_version(),
            "git_commit": provenance.git_commit(),
            "environment": environment,
            "training_environment": training_environment,
        },
    }


def with_accuracy(record: dict, accuracy: float, baseline: float, scores: dict | None = None, **extra) -> dict:
    """Return ``record`` completed as a classification: accuracy against the majority baseline."""
    return {
        **record,
        "task": "classification",
        "primary_metric": {"name": "accuracy", "value": float(accuracy), "higher_is_better": True},
        "metrics": scores if scores is not None else {"accuracy": float(accuracy)},
        "baseline": {"name": MAJORITY, "accuracy": float(baseline)},
        "beats_baseline": bool(accuracy > baseline),
        **extra,
    }


def classification(
    record: dict,
    probabilities: np.ndarray,
    true_idx: np.ndarray,
    train_idx: np.ndarray,
    class_names: list[str],
    loss: float | None = None,
    **extra,
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Return (record, predictions, confusion matrix) of a classifier on its evaluation samples.

    ``probabilities`` (N, classes); ``true_idx`` (N,) class indices of the evaluated samples;
    ``train_idx`` those of the training set (for the majority baseline). The predictions table has
    one row per sample: split, index, true and predicted class, one probability per class.
    """
    pred_idx = probabilities.argmax(axis=1)
    scores = metrics.classification_metrics(true_idx, pred_idx, class_names)
    if loss is not None:
        scores["loss"] = float(loss)
    baseline = metrics.majority_baseline_accuracy(train_idx, true_idx)
    record = with_accuracy(record, scores["accuracy"], baseline, scores, **extra)
    predictions = pd.DataFrame(probabilities, columns=[f"p_{c}" for c in class_names])
    predictions.insert(0, "predicted", [class_names[i] for i in pred_idx])
    predictions.insert(0, "true", [class_names[i] for i in true_idx])
    predictions.insert(0, "index", np.arange(len(true_idx)))
    predictions.insert(0, "split", "test")
    return record, predictions, metrics.confusion_frame(true_idx, pred_idx, class_names)


def regression(record: dict, predictions: pd.DataFrame, target: str, baseline_name: str, baseline_column: str) -> dict:
    """Return ``record`` completed as a regression from its predictions table.

    ``predictions`` has one row per sample with columns split ('train', 'validation', 'test'),
    true, predicted and baseline (the baseline's prediction); RMSEs are compared on the same rows.
    """
    model_rmse, baseline_rmse = {}, {}
    for split, rows in predictions.groupby("split", sort=False):
        model_rmse[split] = metrics.rmse(rows["true"], rows["predicted"])
        baseline_rmse[split] = metrics.rmse(rows["true"], rows["baseline"])
    return {
        **record,
        "task": "regression",
        "target": target,
        "primary_metric": {"name": "rmse", "value": model_rmse["test"], "higher_is_better": False},
        "metrics": {"rmse": model_rmse["test"], "rmse_by_split": model_rmse},
        "baseline": {
            "name": baseline_name,
            "column": baseline_column,
            "rmse": baseline_rmse["test"],
            "rmse_by_split": baseline_rmse,
        },
        "beats_baseline": bool(model_rmse["test"] < baseline_rmse["test"]),
    }
