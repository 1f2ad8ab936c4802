"""Train and evaluate one experiment on tabular split files (penguins, weather).

These functions are what the training and evaluation scripts call; they read and write
files only, so a rule's inputs and outputs fully describe what they do.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd

from . import evaluation, provenance, training
from .errors import WorkflowInputError
from .fileio import atomic_path, md5sum, write_csv, write_json
from .models import build_model, load_model_checked
from .tabular import load_columns, load_xy, numeric_array, read_csv_checked


def train_tabular(
    experiment: str,
    spec: dict,
    train_csv: str,
    columns_json: str,
    model_out: str,
    history_out: str,
    validation_csv: str | None = None,
    tensorboard_dir: str | None = None,
) -> pd.DataFrame:
    """Build, train and save the experiment's model; return its history table."""
    columns = load_columns(columns_json)
    x_train, y_train = load_xy(train_csv, columns)
    validation = load_xy(validation_csv, columns) if validation_csv else None
    # the lesson sets the seed right before building, so weights match its code
    keras.utils.set_random_seed(spec["seed"])
    model = build_model(
        spec["model"]["builder"],
        input_shape=x_train.shape[1:],
        n_outputs=y_train.shape[1],
        args=spec["model"].get("args"),
        adapt_data=x_train,
        where=f"experiments.{experiment}.model",
    )
    training.compile_model(model, spec["training"])
    model.summary(print_fn=print)
    history = training.fit(model, x_train, y_train, spec["training"], validation, tensorboard_dir)
    with atomic_path(model_out, suffix=".keras") as tmp:
        model.save(tmp)
    write_csv(history, history_out)
    return history


def _base_record(experiment: str, spec: dict, model: keras.Model, history_csv: str, raw_files: list[str],
                 test_csv: str, device: str) -> dict:
    history = pd.read_csv(history_csv)
    return {
        "experiment": experiment,
        "dataset": spec["dataset"],
        "description": spec.get("description", ""),
        "n_parameters": int(model.count_params()),
        "epochs_run": int(len(history)),
        "test_set": {"file": Path(test_csv).name, "md5": md5sum(test_csv)},
        "provenance": {
            "dataset_md5": {Path(p).name: md5sum(p) for p in raw_files},
            "config": spec,
            "config_hash": provenance.config_hash(spec),
            "git_commit": provenance.git_commit(),
            "environment": provenance.environment(device),
        },
    }


def evaluate_classifier(
    experiment: str,
    spec: dict,
    model_path: str,
    history_csv: str,
    train_csv: str,
    test_csv: str,
    columns_json: str,
    raw_files: list[str],
    metrics_out: str,
    predictions_out: str,
    confusion_out: str,
    device: str = "unknown",
) -> dict:
    """Evaluate the saved classifier on the test split; write metrics, predictions and confusion matrix."""
    columns = load_columns(columns_json)
    class_names = columns["class_names"]
    model = load_model_checked(model_path)  # from disk, safe mode: the lesson's 'share' step
    _, y_train = load_xy(train_csv, columns)
    x_test, y_test = load_xy(test_csv, columns)
    probabilities = model.predict(x_test, verbose=0)
    record = _base_record(experiment, spec, model, history_csv, raw_files, test_csv, device)
    return finish_classifier(record, probabilities, y_test.argmax(axis=1), y_train.argmax(axis=1), class_names,
                             metrics_out, predictions_out, confusion_out)


def finish_classifier(
    record: dict,
    probabilities: np.ndarray,
    true_idx: np.ndarray,
    train_idx: np.ndarray,
    class_names: list[str],
    metrics_out: str,
    predictions_out: str,
    confusion_out: str,
    loss: float | None = None,
    **extra,
) -> dict:
    """Return ``record`` completed with accuracy, per-class scores and the majority baseline; write
    metrics.json, predictions.csv (one row per evaluated sample) and the confusion matrix CSV."""
    pred_idx = probabilities.argmax(axis=1)
    scores = evaluation.classification_metrics(true_idx, pred_idx, class_names)
    if loss is not None:
        scores["loss"] = float(loss)
    baseline = evaluation.majority_baseline_accuracy(train_idx, true_idx)
    record.update(
        task="classification",
        primary_metric={"name": "accuracy", "value": scores["accuracy"], "higher_is_better": True},
        metrics=scores,
        baseline={"name": "majority class of the training set", "accuracy": baseline},
        beats_baseline=bool(scores["accuracy"] > baseline),
        **extra,
    )
    predictions = pd.DataFrame(probabilities, columns=[f"p_{c}" for c in class_names])
    predictions.insert(0, "predicted", [class_names[i] for i in pred_idx])
    predictions.insert(0, "true", [class_names[i] for i in true_idx])
    predictions.insert(0, "index", np.arange(len(true_idx)))
    predictions.insert(0, "split", "test")
    write_csv(evaluation.confusion_frame(true_idx, pred_idx, class_names), confusion_out, index=True)
    write_csv(predictions, predictions_out)
    write_json(record, metrics_out)
    return record



def _regression_rows(model: keras.Model, split: str, csv: str, columns: dict) -> pd.DataFrame:
    """Return true, predicted and baseline values of one split file, one row per sample."""
    frame = read_csv_checked(csv, columns["features"] + columns["targets"] + [columns["baseline"]])
    x = numeric_array(frame, columns["features"], csv)
    # true and baseline values stay float64 as read, so the baseline RMSE is the lesson's number exactly
    rows = pd.DataFrame({"split": [split] * len(frame)})
    if columns.get("id_column") in frame:
        rows[columns["id_column"]] = frame[columns["id_column"]].to_numpy()
    rows["true"] = frame[columns["targets"][0]].to_numpy(dtype="float64")
    rows["predicted"] = model.predict(x, verbose=0).reshape(len(frame)).astype("float64")
    rows["baseline"] = frame[columns["baseline"]].to_numpy(dtype="float64")
    return rows


def evaluate_regressor(
    experiment: str,
    spec: dict,
    model_path: str,
    history_csv: str,
    train_csv: str,
    test_csv: str,
    columns_json: str,
    raw_files: list[str],
    metrics_out: str,
    predictions_out: str,
    validation_csv: str | None = None,
    device: str = "unknown",
) -> dict:
    """Evaluate the saved regressor and the split's baseline column on every split; write metrics and predictions.

    ``columns.json`` names the single target and a ``baseline`` column holding the baseline's
    prediction (for weather: today's value); RMSEs are compared on the same rows.
    """
    columns = load_columns(columns_json)
    if columns["task"] != "regression" or len(columns["targets"]) != 1 or "baseline" not in columns:
        raise WorkflowInputError(
            f"{columns_json}: evaluate_regressor needs task 'regression', one target and a 'baseline' column"
        )
    model = load_model_checked(model_path)  # from disk, safe mode: the lesson's 'share' step
    files = {"train": train_csv, "validation": validation_csv, "test": test_csv}
    predictions = pd.concat(
        [_regression_rows(model, split, csv, columns) for split, csv in files.items() if csv], ignore_index=True
    )
    model_rmse, baseline_rmse = {}, {}
    for split, rows in predictions.groupby("split", sort=False):
        model_rmse[split] = evaluation.rmse(rows["true"], rows["predicted"])
        baseline_rmse[split] = evaluation.rmse(rows["true"], rows["baseline"])
    record = _base_record(experiment, spec, model, history_csv, raw_files, test_csv, device)
    record.update(
        task="regression",
        target=columns["targets"][0],
        primary_metric={"name": "rmse", "value": model_rmse["test"], "higher_is_better": False},
        metrics={"rmse": model_rmse["test"], "rmse_by_split": model_rmse},
        baseline={
            "name": columns.get("baseline_name", columns["baseline"]),
            "column": columns["baseline"],
            "rmse": baseline_rmse["test"],
            "rmse_by_split": baseline_rmse,
        },
        beats_baseline=bool(model_rmse["test"] < baseline_rmse["test"]),
    )
    # early stopping ended training before its maximum number of epochs
    record["stopped_early"] = bool(spec["training"].get("early_stopping")) and (
        record["epochs_run"] < spec["training"]["epochs"]
    )
    write_csv(predictions, predictions_out)
    write_json(record, metrics_out)
    return record
