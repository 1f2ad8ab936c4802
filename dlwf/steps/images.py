"""Rules of rules/images.smk: episode 4's image data, CNNs, the dropout sweep and keras-tuner.

A prepared image dataset is ``results/<dataset>/prepared/``: the four ``.npy`` arrays and
``classes.json`` (see :mod:`dlwf.data.images`). As in the lesson, the test files are the
validation data: they drive the curves and early stopping, and the evaluation uses them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dlwf.core.fileio import save_figure, save_npy, write_csv, write_json
from dlwf.data import images
from dlwf.data.tables import read_history
from dlwf.evaluate import metrics
from dlwf.evaluate import record as records
from dlwf.report.leaderboard import read_record

from . import common


def prepare(
    raw_files: list[str], class_names: list[str], source_format: str, subset: dict, prepared_dir: str, where: str
) -> dict:
    """Validate (or convert) the raw files into ``prepared_dir``: four .npy arrays and classes.json."""
    splits, record = images.read_raw(raw_files, class_names, source_format=source_format, subset=subset, where=where)
    return _write_prepared(splits, record, prepared_dir)


def prepare_folder(
    source: str,
    image_size: list[int],
    test_size: float,
    random_state: int,
    class_names: list[str] | None,
    skip_unreadable: bool,
    prepared_dir: str,
    where: str,
) -> dict:
    """Read an image folder (or its archive) into ``prepared_dir``: the same arrays and classes.json
    as the lesson's .npy layout (see :mod:`dlwf.data.image_folder`)."""
    from dlwf.data import image_folder

    splits, record = image_folder.read_folder(
        source, tuple(image_size), test_size, random_state, class_names, skip_unreadable, where
    )
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


def _save_test_outputs(prepared_dir: str, n_classes: int, model_out: str, outputs_out: str) -> None:
    """The saved model (reloaded in safe mode) on the validation images: what the evaluation scores."""
    x_val, _ = images.load_split(prepared_dir, "test", n_classes)
    common.save_outputs(model_out, {"test": images.scale(x_val)}, outputs_out)


def train(
    experiment: str,
    settings: dict,
    prepared_dir: str,
    model_out: str,
    history_out: str,
    outputs_out: str,
    environment_out: str | None = None,
    tensorboard_dir: str | None = None,
    backup=None,
) -> pd.DataFrame:
    """Build, train and save one image model (model.keras, history.csv, train_environment.json) and its
    outputs on the validation images (outputs.npz, so that the evaluation needs no TensorFlow).

    ``tensorboard_dir``: TensorBoard logs (``training.tensorboard: true``). ``backup``: the job's
    :class:`dlwf.nn.resume.Job` (resume an interrupted run; removed once every output is written)."""
    from dlwf.nn import training
    from dlwf.nn.model_io import save_model

    classes, (x, y), validation = load_data(prepared_dir, settings["training"]["validation"] == "test")
    model, history = training.train(
        settings,
        x,
        y,
        classes["n_classes"],
        validation,
        tensorboard_dir=tensorboard_dir,
        where=f"experiments.{experiment}.model",
        backup=backup,
        what=f"{settings['dataset']}/{experiment}",
    )
    save_model(model, model_out)
    write_csv(history, history_out)
    _save_test_outputs(prepared_dir, classes["n_classes"], model_out, outputs_out)
    if environment_out:
        common.write_environment(environment_out, backup.record() if backup else None)
    if backup is not None:
        backup.finish()
    return history


SWEEP_COLUMNS = [
    "value",
    "val_loss",
    "val_accuracy",
    "epochs_run",
    "stopped_early",
    "best_epoch",
    "best_val_loss",
    "n_parameters",
]


def aggregate_sweep(
    experiment: str,
    settings: dict,
    metrics_files: list[str],
    history_files: list[str],
    prepared_dir: str,
    raw_files: list[str],
    table_out: str,
    plot_out: str,
    curves_out: str,
    metrics_out: str,
) -> pd.DataFrame:
    """The lesson's sweep table and plot of the final validation loss per value, all loss curves, and
    the sweep's metrics.json: the point with the lowest final validation loss, the one the lesson's
    plot picks (as in the lesson, the validation data are the test files)."""
    from dlwf.report import plots

    arg = settings["sweep"]["arg"]
    rows = []
    for value, metrics_file, history_file in zip(
        settings["sweep"]["values"], metrics_files, history_files, strict=True
    ):
        record = read_record(metrics_file)
        history = read_history(history_file)
        best = int(history["val_loss"].idxmin()) if "val_loss" in history else int(history["loss"].idxmin())
        rows.append(
            {
                arg: value,
                "val_loss": float(record["metrics"]["loss"]),
                "val_accuracy": float(record["metrics"]["accuracy"]),
                "epochs_run": int(record["epochs_run"]),
                "stopped_early": bool(record["stopped_early"]),
                "best_epoch": int(history["epoch"].iloc[best]),
                "best_val_loss": float(history["val_loss"].iloc[best]) if "val_loss" in history else None,
                "n_parameters": int(record["n_parameters"]),
                "environment": record["provenance"]["environment"],
                "training_environment": record["provenance"].get("training_environment"),
                "history": history,
            }
        )
    hidden = ("environment", "training_environment", "history")
    table = pd.DataFrame([{k: v for k, v in r.items() if k not in hidden} for r in rows])
    best_index = int(table["val_loss"].idxmin())
    best = table.loc[best_index]
    classes = images.read_classes(prepared_dir)
    prepared = Path(prepared_dir)
    y_train = images.load_labels(prepared / images.FILES["train"]["labels"], classes["n_classes"])
    y_val = images.load_labels(prepared / images.FILES["test"]["labels"], classes["n_classes"])
    base = records.base_record(
        experiment,
        settings,
        best["n_parameters"],
        rows[best_index]["history"],
        common.test_set(prepared / images.FILES["test"]["images"]),
        common.dataset_md5(raw_files),
        rows[best_index]["environment"],
        training_environment=rows[best_index]["training_environment"],
        samples={"train": len(y_train), "test": len(y_val)},
    )
    accuracy = float(best["val_accuracy"])
    record = records.with_accuracy(
        base,
        accuracy,
        metrics.majority_baseline_accuracy(y_train, y_val),
        {"accuracy": accuracy, "loss": float(best["val_loss"])},
        evaluated_on=records.LESSON_VALIDATION,
        sweep={"arg": arg, "values": list(settings["sweep"]["values"]), "selected_by": "lowest final val_loss"},
        best={arg: best[arg].item(), "val_loss": float(best["val_loss"]), "val_accuracy": accuracy},
        results=table.to_dict("records"),
    )
    write_csv(table, table_out)
    save_figure(plots.sweep_plot(table, arg, title=experiment), plot_out)
    save_figure(plots.sweep_curves({r[arg]: r["history"] for r in rows}, arg, title=experiment), curves_out)
    write_json(record, metrics_out)
    print(table.to_string(index=False))
    return table


def tune(
    experiment: str,
    settings: dict,
    prepared_dir: str,
    backup,
    model_out: str,
    history_out: str,
    trials_out: str,
    trials_history_out: str,
    outputs_out: str,
    environment_out: str | None = None,
    tensorboard_dir: str | None = None,
) -> pd.DataFrame:
    """Run the keras-tuner grid search; write every trial, the best model (best epoch) and its history.

    ``backup`` (:class:`dlwf.nn.resume.Job`) holds keras-tuner's project directory and each trial's
    backup: an interrupted search resumes (finished trials are not run again, the interrupted one
    goes on after its last backed-up epoch); it is removed once every output is written.
    ``tensorboard_dir``: TensorBoard logs, one subdirectory per trial."""
    from dlwf.nn import tuning
    from dlwf.nn.model_io import save_model

    classes, (x, y), validation = load_data(prepared_dir, with_validation=True)
    model, history, trials, histories = tuning.search(
        settings,
        x,
        y,
        validation,
        classes["n_classes"],
        backup,
        where=f"experiments.{experiment}",
        tensorboard_dir=tensorboard_dir,
        what=f"{settings['dataset']}/{experiment}",
    )
    save_model(model, model_out)
    write_csv(history, history_out)
    write_csv(trials, trials_out)
    write_csv(histories, trials_history_out)
    _save_test_outputs(prepared_dir, classes["n_classes"], model_out, outputs_out)
    if environment_out:
        common.write_environment(environment_out, backup.record())
    print(trials.to_string(index=False))
    backup.finish()
    return trials


def evaluate(
    experiment: str,
    settings: dict,
    model_file: str,
    outputs_npz: str,
    history_csv: str,
    prepared_dir: str,
    raw_files: list[str],
    metrics_out: str,
    predictions_out: str,
    confusion_out: str,
    evaluated_on: str = records.LESSON_VALIDATION,
    training_environment_json: str | None = None,
    card_out: str | None = None,
    figures: dict[str, str] | None = None,
) -> dict:
    """Evaluate the saved model's outputs on the validation (test) images (outputs.npz, written by the
    training job from model.keras reloaded in safe mode); write metrics, predictions, confusion matrix."""
    classes = images.read_classes(prepared_dir)
    y_train = images.load_labels(Path(prepared_dir) / images.FILES["train"]["labels"], classes["n_classes"])
    y_val = images.load_labels(Path(prepared_dir) / images.FILES["test"]["labels"], classes["n_classes"])
    outputs = common.load_outputs(outputs_npz, ["test"], {"test": len(y_val)}, model_file)
    record = finish_classifier(
        experiment,
        settings,
        int(outputs["n_parameters"]),
        outputs["test"],
        y_val,
        y_train,
        classes["class_names"],
        history_csv,
        prepared_dir,
        raw_files,
        metrics_out,
        predictions_out,
        confusion_out,
        evaluated_on=evaluated_on,
        training_environment_json=training_environment_json,
    )
    if card_out:
        common.model_card(record, classes, settings, model_file, card_out)
    if figures:
        from . import plots

        plots.run_figures(experiment, history_csv, figures, confusion_csv=confusion_out)
    return record


def finish_classifier(
    experiment: str,
    settings: dict,
    n_parameters: int,
    outputs: np.ndarray,
    y_val: np.ndarray,
    y_train: np.ndarray,
    class_names: list[str],
    history_csv: str,
    prepared_dir: str,
    raw_files: list[str],
    metrics_out: str,
    predictions_out: str,
    confusion_out: str,
    training_environment_json: str | None = None,
    **extra,
) -> dict:
    """Write metrics.json, predictions.csv and confusion_matrix.csv of an image classifier's ``outputs``."""
    from_logits = settings["training"]["from_logits"]
    outputs = np.asarray(outputs, dtype=np.float64)
    probabilities = metrics.softmax(outputs) if from_logits else outputs
    base = records.base_record(
        experiment,
        settings,
        n_parameters,
        read_history(history_csv),
        common.test_set(Path(prepared_dir) / images.FILES["test"]["images"]),
        common.dataset_md5(raw_files),
        common.environment(),
        common.training_environment(training_environment_json),
        samples={"train": len(y_train), "test": len(y_val)},
    )
    classes = images.read_classes(prepared_dir)
    if "skipped_unreadable" in classes:
        extra = {"skipped_unreadable": classes["skipped_unreadable"], **extra}
    record, predictions, confusion = records.classification(
        base,
        probabilities,
        y_val,
        y_train,
        class_names,
        loss=metrics.sparse_crossentropy(y_val, outputs, from_logits),
        **extra,
    )
    write_csv(confusion, confusion_out, index=True)
    write_csv(predictions, predictions_out)
    write_json(record, metrics_out)
    print(f"validation accuracy {record['metrics']['accuracy']:.4f}, baseline {record['baseline']['accuracy']:.4f}")
    return record
