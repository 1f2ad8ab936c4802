"""Rules of rules/images.smk: episode 4's image data, CNNs, the dropout sweep and keras-tuner.

A prepared image dataset is ``results/<dataset>/prepared/``: the four ``.npy`` arrays and
``classes.json`` (see :mod:`dlwf.data.images`). As in the lesson, the test files are the
validation data: they drive the curves and early stopping, and the evaluation uses them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import read_json_checked, save_figure, save_npy, write_csv, write_json
from dlwf.data import images
from dlwf.data.tables import read_history
from dlwf.evaluate import metrics
from dlwf.evaluate import record as records

from . import common


def prepare(raw_files: list[str], class_names: list[str], source_format: str, subset: dict, prepared_dir: str,
            where: str) -> dict:
    """Validate (or convert) the raw files into ``prepared_dir``: four .npy arrays and classes.json."""
    splits, record = images.read_raw(raw_files, class_names, source_format=source_format, subset=subset, where=where)
    return _write_prepared(splits, record, prepared_dir)


def prepare_folder(source: str, image_size: list[int], test_size: float, random_state: int,
                   class_names: list[str] | None, skip_unreadable: bool, prepared_dir: str, where: str) -> dict:
    """Read an image folder (or its archive) into ``prepared_dir``: the same arrays and classes.json
    as the lesson's .npy layout (see :mod:`dlwf.data.image_folder`)."""
    from dlwf.data import image_folder

    splits, record = image_folder.read_folder(source, tuple(image_size), test_size, random_state, class_names,
                                              skip_unreadable, where)
    for name in record["unreadable_files"]:
        print(f"skipped (not a readable image): {name}")
    return _write_prepared(splits, record, prepared_dir)


def _write_prepared(splits: dict, record: dict, prepared_dir: str) -> dict:
    prepared = Path(prepared_dir)
    for part, (pixels, labels) in splits.items():
        save_npy(pixels, prepared / images.FILES[part]["images"])
        save_npy(labels, prepared / images.FILES[part]["labels"])
    write_json(record, prepared / images.CLASSES_FILE)
    print(f"prepared {record['counts']} images of shape {record['image_shape']}")
    print(f"class counts: {record['class_counts']}")
    return record


def sample_images(prepared_dir: str, figure_out: str, title: str) -> None:
    """A 5x5 grid of training images titled with their class names (the lesson's first look)."""
    from dlwf.report import plots  # only the figure rules need matplotlib

    classes = images.read_classes(prepared_dir)
    pixels, labels = images.load_split(prepared_dir, "train", classes["n_classes"])
    fig = plots.image_grid(pixels, labels, classes["class_names"])
    fig.suptitle(title)
    save_figure(fig, figure_out)


def load_data(prepared_dir: str, with_validation: bool):
    """Return (classes, (x_train, y_train), (x_val, y_val) or None): images in [0, 1], class indices."""
    classes = images.read_classes(prepared_dir)
    x_train, y_train = images.load_split(prepared_dir, "train", classes["n_classes"])
    validation = None
    if with_validation:
        x_val, y_val = images.load_split(prepared_dir, "test", classes["n_classes"])
        validation = (images.scale(x_val), y_val)
    return classes, (images.scale(x_train), y_train), validation


def _train(experiment: str, settings: dict, prepared_dir: str, model_out: str, history_out: str, where: str):
    from dlwf.nn import training
    from dlwf.nn.model_io import save_model

    classes, (x, y), validation = load_data(prepared_dir, settings["training"]["validation"] == "test")
    model, history = training.train(settings, x, y, classes["n_classes"], validation, where=where)
    save_model(model, model_out)
    write_csv(history, history_out)
    return model, history, validation


def train(experiment: str, settings: dict, prepared_dir: str, model_out: str, history_out: str) -> pd.DataFrame:
    """Build, train and save one image model (model.keras, history.csv); return the history."""
    return _train(experiment, settings, prepared_dir, model_out, history_out, f"experiments.{experiment}.model")[1]


def train_sweep_point(experiment: str, settings: dict, arg: str, prepared_dir: str, model_out: str,
                      history_out: str, evaluation_out: str) -> dict:
    """Train the sweep's model for one value (``settings`` has it in model.args); write its final scores.

    As the lesson does, the model is evaluated as training left it (early stopping keeps the
    last weights unless restore_best_weights is set).
    """
    value = settings["model"]["args"][arg]
    model, history, validation = _train(experiment, settings, prepared_dir, model_out, history_out,
                                        f"experiments.{experiment}.model (with sweep.arg {arg!r})")
    scores = model.evaluate(*validation, verbose=0, return_dict=True)
    best = int(history["val_loss"].idxmin())
    record = {
        "experiment": experiment,
        "arg": arg,
        "value": value,
        "val_loss": float(scores["loss"]),
        "val_accuracy": float(scores["accuracy"]),
        "epochs_run": int(len(history)),
        "stopped_early": bool(len(history) < settings["training"]["epochs"]),
        "best_epoch": int(history["epoch"].iloc[best]),
        "best_val_loss": float(history["val_loss"].iloc[best]),
        "n_parameters": int(model.count_params()),
        "environment": common.environment(),
    }
    write_json(record, evaluation_out)
    print(f"{arg}={value}: val_loss {record['val_loss']:.4f}, val_accuracy {record['val_accuracy']:.4f} "
          f"after {record['epochs_run']} epochs")
    return record


SWEEP_COLUMNS = ["value", "val_loss", "val_accuracy", "epochs_run", "stopped_early", "best_epoch", "best_val_loss",
                 "n_parameters"]


def read_evaluation(path: str) -> dict:
    """Return a sweep point's evaluation.json, checked (every column of the sweep table, numbers)."""
    fix = "delete it and run snakemake again so the sweep point trains anew"
    record = read_json_checked(path, SWEEP_COLUMNS, "evaluation of a sweep point", fix)
    bad = [k for k in SWEEP_COLUMNS if not isinstance(record[k], int | float)]
    if bad:
        raise WorkflowInputError(f"{path}: not a valid evaluation of a sweep point ({bad} are not numbers); {fix}")
    return record


def aggregate_sweep(experiment: str, settings: dict, evaluation_files: list[str], history_files: list[str],
                    prepared_dir: str, raw_files: list[str], table_out: str, plot_out: str, curves_out: str,
                    metrics_out: str) -> pd.DataFrame:
    """Write the sweep table, the lesson's val-loss-vs-value plot, all loss curves and metrics.json.

    The primary metric is the validation accuracy of the value with the lowest final validation
    loss, the value the lesson's plot picks.
    """
    from dlwf.report import plots

    arg = settings["sweep"]["arg"]
    evaluations = [read_evaluation(p) for p in evaluation_files]
    table = pd.DataFrame(evaluations)
    table = table[SWEEP_COLUMNS].rename(columns={"value": arg})
    rows = table.to_dict("records")
    histories = {row[arg]: read_history(path) for row, path in zip(rows, history_files, strict=True)}
    best_index = int(table["val_loss"].idxmin())
    best = table.loc[best_index]
    classes = images.read_classes(prepared_dir)
    prepared = Path(prepared_dir)
    y_train = images.load_labels(prepared / images.FILES["train"]["labels"], classes["n_classes"])
    y_val = images.load_labels(prepared / images.FILES["test"]["labels"], classes["n_classes"])
    base = records.base_record(
        experiment, settings, best["n_parameters"], best["epochs_run"],
        common.test_set(prepared / images.FILES["test"]["images"]), common.dataset_md5(raw_files),
        evaluations[best_index].get("environment", {}),
    )
    accuracy = float(best["val_accuracy"])
    record = records.with_accuracy(
        base, accuracy, metrics.majority_baseline_accuracy(y_train, y_val),
        {"accuracy": accuracy, "loss": float(best["val_loss"])},
        evaluated_on=records.LESSON_VALIDATION,
        sweep={"arg": arg, "values": list(settings["sweep"]["values"]), "selected_by": "lowest final val_loss"},
        best={arg: best[arg].item(), "val_loss": float(best["val_loss"]), "val_accuracy": accuracy},
        results=table.to_dict("records"),
    )
    write_csv(table, table_out)
    save_figure(plots.sweep_plot(table, arg, title=experiment), plot_out)
    save_figure(plots.sweep_curves(histories, arg, title=experiment), curves_out)
    write_json(record, metrics_out)
    print(table.to_string(index=False))
    return table


def tune(experiment: str, settings: dict, prepared_dir: str, tuner_dir: str, model_out: str, history_out: str,
         trials_out: str, trials_history_out: str) -> pd.DataFrame:
    """Run the keras-tuner grid search; write every trial, the best model (best epoch) and its history."""
    from dlwf.nn import tuning
    from dlwf.nn.model_io import save_model

    classes, (x, y), validation = load_data(prepared_dir, with_validation=True)
    model, history, trials, histories = tuning.search(
        settings, x, y, validation, classes["n_classes"], tuner_dir, where=f"experiments.{experiment}"
    )
    save_model(model, model_out)
    write_csv(history, history_out)
    write_csv(trials, trials_out)
    write_csv(histories, trials_history_out)
    print(trials.to_string(index=False))
    return trials


def evaluate(experiment: str, settings: dict, model_path: str, history_csv: str, prepared_dir: str,
             raw_files: list[str], metrics_out: str, predictions_out: str, confusion_out: str,
             evaluated_on: str = records.LESSON_VALIDATION) -> dict:
    """Evaluate the saved model on the validation (test) images; write metrics, predictions, confusion matrix."""
    from dlwf.nn.model_io import load_model_checked

    classes = images.read_classes(prepared_dir)
    model = load_model_checked(model_path)  # from disk, safe mode: the lesson's 'share the model' step
    _, y_train = images.load_split(prepared_dir, "train", classes["n_classes"])
    x_val, y_val = images.load_split(prepared_dir, "test", classes["n_classes"])
    outputs = model.predict(images.scale(x_val), verbose=0)
    return finish_classifier(
        experiment, settings, model, outputs, y_val, y_train, classes["class_names"], history_csv, prepared_dir,
        raw_files, metrics_out, predictions_out, confusion_out, evaluated_on=evaluated_on,
    )


def finish_classifier(experiment: str, settings: dict, model, outputs: np.ndarray, y_val: np.ndarray,
                      y_train: np.ndarray, class_names: list[str], history_csv: str, prepared_dir: str,
                      raw_files: list[str], metrics_out: str, predictions_out: str, confusion_out: str,
                      **extra) -> dict:
    """Write metrics.json, predictions.csv and confusion_matrix.csv of an image classifier's ``outputs``."""
    from_logits = settings["training"]["from_logits"]
    probabilities = metrics.softmax(outputs) if from_logits else outputs
    base = records.base_record(
        experiment, settings, model.count_params(), len(read_history(history_csv)),
        common.test_set(Path(prepared_dir) / images.FILES["test"]["images"]), common.dataset_md5(raw_files),
        common.environment(),
    )
    classes = images.read_classes(prepared_dir)
    if "skipped_unreadable" in classes:
        extra = {"skipped_unreadable": classes["skipped_unreadable"], **extra}
    record, predictions, confusion = records.classification(
        base, probabilities, y_val, y_train, class_names,
        loss=metrics.sparse_crossentropy(y_val, outputs, from_logits), **extra,
    )
    write_csv(confusion, confusion_out, index=True)
    write_csv(predictions, predictions_out)
    write_json(record, metrics_out)
    print(f"validation accuracy {record['metrics']['accuracy']:.4f}, baseline {record['baseline']['accuracy']:.4f}")
    return record
