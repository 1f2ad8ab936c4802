"""Rules of rules/tabular.smk: train and evaluate experiments on tabular split files.

A split is ``train.csv``, ``test.csv`` (and ``val.csv``) plus ``columns.json``, which names the
feature and target columns and the task (see :mod:`dlwf.data.tables`). Penguins (episode 2)
and the weather views (episode 3) both come as such splits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import write_csv, write_json
from dlwf.data.tables import (
    load_columns,
    load_xy,
    numeric_array,
    read_csv_checked,
    read_history,
    targets,
)
from dlwf.evaluate import metrics
from dlwf.evaluate import record as records

from . import common


def train(
    experiment: str,
    settings: dict,
    train_csv: str,
    columns_json: str,
    model_out: str,
    history_out: str,
    outputs_out: str,
    test_csv: str,
    validation_csv: str | None = None,
    tensorboard_dir: str | None = None,
    environment_out: str | None = None,
    backup=None,
) -> pd.DataFrame:
    """Build, train and save the experiment's model (model.keras, history.csv); return the history.

    The saved model, reloaded in safe mode, then predicts every split (outputs.npz), so that the
    evaluation needs no TensorFlow (one TensorFlow start per experiment, not two).
    ``environment_out``: where to record the job's environment (device, GPUs; train_environment.json).
    ``backup``: the job's :class:`dlwf.nn.resume.Job`: training resumes an interrupted run of this
    job and the backup is removed once every output is written.
    """
    from dlwf.nn import training
    from dlwf.nn.model_io import save_model

    columns = load_columns(columns_json)
    x_train, y_train = load_xy(train_csv, columns)
    validation = load_xy(validation_csv, columns) if validation_csv else None
    model, history = training.train(
        settings,
        x_train,
        y_train,
        n_outputs=y_train.shape[1],
        validation=validation,
        tensorboard_dir=tensorboard_dir,
        where=f"experiments.{experiment}.model",
        vocabularies=columns["vocabularies"] or None,
        backup=backup,
        what=f"{settings['dataset']}/{experiment}",
    )
    save_model(model, model_out)
    write_csv(history, history_out)
    if environment_out:
        common.write_environment(environment_out, backup.record() if backup else None)
    splits = {"train": x_train, "test": load_xy(test_csv, columns)[0]}
    if validation is not None:
        splits["validation"] = validation[0]
    common.save_outputs(model_out, splits, outputs_out)
    if backup is not None:
        backup.finish()
    return history


def _regression_rows(outputs: np.ndarray, split: str, csv: str, columns: dict) -> pd.DataFrame:
    """Return true, predicted and baseline values of one split file, one row per sample."""
    frame = read_csv_checked(csv, [columns["target"], columns["baseline"]])
    # true and baseline values stay float64 as read, so the baseline RMSE is the lesson's number exactly
    rows = pd.DataFrame({"split": [split] * len(frame)})
    if columns.get("id_column") in frame:
        rows[columns["id_column"]] = frame[columns["id_column"]].to_numpy()
    numeric_array(frame, [columns["target"], columns["baseline"]], csv)  # a non-finite true value would be scored
    rows["true"] = frame[columns["target"]].to_numpy(dtype="float64")
    rows["predicted"] = outputs.reshape(len(frame)).astype("float64")
    rows["baseline"] = frame[columns["baseline"]].to_numpy(dtype="float64")
    return rows


def evaluate(
    experiment: str,
    settings: dict,
    model_file: str,
    outputs_npz: str,
    history_csv: str,
    split: dict[str, str],
    raw_files: list[str],
    metrics_out: str,
    predictions_out: str,
    confusion_out: str | None = None,
    training_environment_json: str | None = None,
    card_out: str | None = None,
    figures: dict[str, str] | None = None,
    label: str = "value",
) -> dict:
    """Evaluate the saved model's outputs on its split (outputs.npz, written by the training job from
    model.keras reloaded in safe mode, the lesson's "share the model" step); write metrics.json and
    predictions.csv, and for a classifier the confusion matrix.

    ``split`` names the split's files: train, test, columns (columns.json) and, if the experiment
    trains with one, validation. The task comes from columns.json: a classifier is scored by
    accuracy against the majority class, a regressor by RMSE against the split's baseline column.
    ``figures`` names the figures to draw: curves (training curves), and confusion_plot (a
    classifier) or scatter_train and scatter_test (a regressor; ``label`` names the target).
    ``training_environment_json`` is the training job's train_environment.json.
    """
    columns = load_columns(split["columns"])
    parts = [part for part in ("train", "validation", "test") if split.get(part)]
    dtype = {columns["target"]: str} if columns["task"] == "classification" else None
    frames = {part: read_csv_checked(split[part], [columns["target"]], dtype=dtype) for part in parts}
    outputs = common.load_outputs(outputs_npz, parts, {part: len(frame) for part, frame in frames.items()}, model_file)
    # samples per split; a validation split that is the test file (the lesson's penguins) is not counted twice
    samples = {
        part: len(frame)
        for part, frame in frames.items()
        if not (part == "validation" and split["validation"] == split["test"])
    }
    base = records.base_record(
        experiment,
        settings,
        int(outputs["n_parameters"]),
        read_history(history_csv),
        common.test_set(split["test"]),
        common.dataset_md5(raw_files),
        common.environment(),
        common.training_environment(training_environment_json),
        samples=samples,
    )
    if columns["task"] == "classification":
        y_train = targets(frames["train"], columns, split["train"])
        y_test = targets(frames["test"], columns, split["test"])
        probabilities = outputs["test"].astype(np.float64)
        if settings["training"]["from_logits"]:
            probabilities = metrics.softmax(probabilities)
        record, predictions, confusion = records.classification(
            base,
            probabilities,
            y_test.argmax(axis=1),
            y_train.argmax(axis=1),
            columns["class_names"],
        )
        write_csv(confusion, confusion_out, index=True)
        summary = f"test accuracy {record['metrics']['accuracy']:.4f}, baseline {record['baseline']['accuracy']:.4f}"
    else:
        if "baseline" not in columns:
            raise WorkflowInputError(f"{split['columns']}: a regressor's evaluation needs a 'baseline' column")
        predictions = pd.concat(
            [_regression_rows(outputs[part], part, split[part], columns) for part in parts], ignore_index=True
        )
        record = records.regression(
            base,
            predictions,
            target=columns["target"],
            baseline_name=columns.get("baseline_name", columns["baseline"]),
            baseline_column=columns["baseline"],
        )
        summary = f"test RMSE {record['metrics']['rmse']:.4f}, baseline {record['baseline']['rmse']!r}"
    write_csv(predictions, predictions_out)
    write_json(record, metrics_out)
    if card_out:
        common.model_card(record, columns, settings, model_file, card_out)
    if figures:
        from . import plots

        plots.run_figures(
            experiment, history_csv, figures, confusion_csv=confusion_out, predictions_csv=predictions_out, label=label
        )
    print(summary)
    return record
