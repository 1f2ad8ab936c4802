"""Tabulate and plot a sweep: one trained model per value of one builder argument (no TensorFlow).

``metrics.json`` has the layout of every classifier's (see :func:`dlwf.experiment.evaluate_classifier`):
its primary metric is the validation accuracy of the value with the lowest final validation loss,
the value the lesson's plot picks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import evaluation, images, plots, provenance
from .errors import WorkflowInputError
from .fileio import md5sum, read_json, save_figure, write_csv, write_json

COLUMNS = ["value", "val_loss", "val_accuracy", "epochs_run", "stopped_early", "best_epoch", "best_val_loss",
           "n_parameters"]


def sweep_table(evaluations: list[dict], arg: str) -> pd.DataFrame:
    """Return one row per value (in sweep order) with its final and best validation loss."""
    frame = pd.DataFrame(evaluations)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise WorkflowInputError(f"sweep evaluations lack {missing}")
    return frame[COLUMNS].rename(columns={"value": arg})


def aggregate(
    experiment: str,
    spec: dict,
    evaluation_files: list[str],
    history_files: list[str],
    prepared_dir: str,
    raw_files: list[str],
    table_out: str,
    plot_out: str,
    curves_out: str,
    metrics_out: str,
) -> pd.DataFrame:
    """Write the sweep table, the lesson's val-loss-vs-value plot, all loss curves and metrics.json."""
    arg = spec["sweep"]["arg"]
    evaluations = [read_json(p) for p in evaluation_files]
    table = sweep_table(evaluations, arg)
    histories = {row[arg]: pd.read_csv(path) for row, path in zip(table.to_dict("records"), history_files, strict=True)}
    best_index = int(table["val_loss"].idxmin())
    best = table.loc[best_index]
    classes = images.read_classes(prepared_dir)
    prepared = Path(prepared_dir)
    y_train = images.load_labels(prepared / images.FILES["train"]["labels"], classes["n_classes"])
    y_val = images.load_labels(prepared / images.FILES["test"]["labels"], classes["n_classes"])
    baseline = evaluation.majority_baseline_accuracy(y_train, y_val)
    test_images = prepared / images.FILES["test"]["images"]
    accuracy = float(best["val_accuracy"])
    record = {
        "experiment": experiment,
        "dataset": spec["dataset"],
        "description": spec.get("description", ""),
        "task": "classification",
        "evaluated_on": "validation set (the dataset's test files, as in the lesson)",
        "sweep": {"arg": arg, "values": list(spec["sweep"]["values"]), "selected_by": "lowest final val_loss"},
        "best": {arg: best[arg].item(), "val_loss": float(best["val_loss"]), "val_accuracy": accuracy},
        "primary_metric": {"name": "accuracy", "value": accuracy, "higher_is_better": True},
        "metrics": {"accuracy": accuracy, "loss": float(best["val_loss"])},
        "baseline": {"name": "majority class of the training set", "accuracy": baseline},
        "beats_baseline": bool(accuracy > baseline),
        "n_parameters": int(best["n_parameters"]),
        "epochs_run": int(best["epochs_run"]),
        "results": table.to_dict("records"),
        "test_set": {"file": test_images.name, "md5": md5sum(test_images)},
        "provenance": {
            "dataset_md5": {Path(p).name: md5sum(p) for p in raw_files},
            "config": spec,
            "config_hash": provenance.config_hash(spec),
            "git_commit": provenance.git_commit(),
            "environment": evaluations[best_index].get("environment", {}),
        },
    }
    write_csv(table, table_out)
    save_figure(plots.sweep_plot(table, arg, title=experiment), plot_out)
    save_figure(plots.sweep_curves(histories, arg, title=experiment), curves_out)
    write_json(record, metrics_out)
    return table
