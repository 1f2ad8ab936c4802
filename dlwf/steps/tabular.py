"""Rules of rules/tabular.smk: train and evaluate experiments on tabular split files.

A split is ``train.csv``, ``test.csv`` (and ``val.csv``) plus ``columns.json``, which names the
feature and target columns and the task (see :mod:`dlwf.data.tables`). Penguins (episode 2)
and the weather views (episode 3) both come as such splits.
"""

from __future__ import annotations

import keras
import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import write_csv, write_json
from dlwf.data.tables import load_columns, load_xy, model_inputs, numeric_array, read_csv_checked, read_history
from dlwf.evaluate import record as records
from dlwf.nn import training
from dlwf.nn.model_io import load_model_checked, save_model

from . import common


def train(
    experiment: str,
    settings: dict,
    train_csv: str,
    columns_json: str,
    model_out: str,
    history_out: str,
    validation_csv: str | None = None,
    tensorboard_dir: str | None = None,
) -> pd.DataFrame:
    """Build, train and save the experiment's model (model.keras, history.csv); return the history."""
    columns = load_columns(columns_json)
    x_train, y_train = load_xy(train_csv, columns)
    validation = load_xy(validation_csv, columns) if validation_csv else None
    model, history = training.train(
        settings, x_train, y_train, n_outputs=y_train.shape[1], validation=validation,
        tensorboard_dir=tensorboard_dir, where=f"experiments.{experiment}.model",
        vocabularies=columns["vocabularies"] or None,
    )
    save_model(model, model_out)
    write_csv(history, history_out)
    return history


def _regression_rows(model: keras.Model, split: str, csv: str, columns: dict) -> pd.DataFrame:
    """Return true, predicted and baseline values of one split file, one row per sample."""
    dtype = {c: str for c in columns["categorical_inputs"].values()} or None
    frame = read_csv_checked(csv, columns["features"] + [columns["target"], columns["baseline"]], dtype=dtype)
    x = model_inputs(frame, columns, csv)
    # true and baseline values stay float64 as read, so the baseline RMSE is the lesson's number exactly
    rows = pd.DataFrame({"split": [split] * len(frame)})
    if columns.get("id_column") in frame:
        rows[columns["id_column"]] = frame[columns["id_column"]].to_numpy()
    numeric_array(frame, [columns["target"], columns["baseline"]], csv)  # a non-finite true value would be scored
    rows["true"] = frame[columns["target"]].to_numpy(dtype="float64")
    rows["predicted"] = model.predict(training.tensors(x), verbose=0).reshape(len(frame)).astype("float64")
    rows["baseline"] = frame[columns["baseline"]].to_numpy(dtype="float64")
    return rows


def evaluate(
    experiment: str,
    settings: dict,
    model_path: str,
    history_csv: str,
    split: dict[str, str],
    raw_files: list[str],
    metrics_out: str,
    predictions_out: str,
    confusion_out: str | None = None,
) -> dict:
    """Evaluate the saved model (loaded from ``model_path`` in safe mode, the lesson's "share the model"
    step) on its split; write metrics.json and predictions.csv, and for a classifier the confusion matrix.

    ``split`` names the split's files: train, test, columns (columns.json) and, if the experiment
    trains with one, validation. The task comes from columns.json: a classifier is scored by
    accuracy against the majority class, a regressor by RMSE against the split's baseline column.
    """
    columns = load_columns(split["columns"])
    model = load_model_checked(model_path)
    base = records.base_record(
        experiment, settings, model.count_params(), len(read_history(history_csv)), common.test_set(split["test"]),
        common.dataset_md5(raw_files), common.environment(),
    )
    if columns["task"] == "classification":
        _, y_train = load_xy(split["train"], columns)
        x_test, y_test = load_xy(split["test"], columns)
        record, predictions, confusion = records.classification(
            base, model.predict(training.tensors(x_test), verbose=0), y_test.argmax(axis=1), y_train.argmax(axis=1),
            columns["class_names"],
        )
        write_csv(confusion, confusion_out, index=True)
        summary = f"test accuracy {record['metrics']['accuracy']:.4f}, baseline {record['baseline']['accuracy']:.4f}"
    else:
        if "baseline" not in columns:
            raise WorkflowInputError(f"{split['columns']}: a regressor's evaluation needs a 'baseline' column")
        parts = ("train", "validation", "test")
        predictions = pd.concat(
            [_regression_rows(model, part, split[part], columns) for part in parts if split.get(part)],
            ignore_index=True,
        )
        record = records.regression(
            base, predictions, target=columns["target"],
            baseline_name=columns.get("baseline_name", columns["baseline"]), baseline_column=columns["baseline"],
        )
        summary = f"test RMSE {record['metrics']['rmse']:.4f}, baseline {record['baseline']['rmse']!r}"
    write_csv(predictions, predictions_out)
    write_json(record, metrics_out)
    print(summary)
    return record


