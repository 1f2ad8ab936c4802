"""Rules of rules/plots.smk: every figure of a trained run, drawn from its result files (no TensorFlow)."""

from __future__ import annotations

import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import save_figure
from dlwf.data.tables import read_csv_checked, read_history
from dlwf.report import plots


def training_curves(history_csv: str, figure_out: str, title: str) -> None:
    """Training and validation curves per metric, from history.csv."""
    save_figure(plots.training_curves(read_history(history_csv), title), figure_out)


def confusion_matrix(confusion_csv: str, figure_out: str, title: str) -> None:
    """Heatmap of a confusion-matrix CSV (true labels as rows, predicted as columns) with class names."""
    try:
        confusion = pd.read_csv(confusion_csv, index_col=0)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise WorkflowInputError(f"{confusion_csv}: not a confusion matrix ({exc}); delete it and rerun") from exc
    save_figure(plots.confusion_heatmap(confusion, title), figure_out)


def prediction_scatter(predictions_csv: str, label: str, title: str, train_out: str, test_out: str) -> None:
    """Predicted vs true values on the train and test sets, the baseline's beside the model's."""
    predictions = read_csv_checked(predictions_csv, ["split", "true", "predicted", "baseline"])
    for split, dest in (("train", train_out), ("test", test_out)):
        fig = plots.prediction_scatter(predictions, split, label)
        fig.suptitle(title)
        save_figure(fig, dest)


def classifier_figures(history_csv: str, confusion_csv: str, curves_out: str, confusion_out: str, title: str) -> None:
    """A classifier's figures: its training curves and its confusion matrix."""
    training_curves(history_csv, curves_out, title)
    confusion_matrix(confusion_csv, confusion_out, title)


def regressor_figures(history_csv: str, predictions_csv: str, label: str, curves_out: str, train_out: str,
                      test_out: str, title: str) -> None:
    """A regressor's figures: its training curves and predicted vs true on the train and test sets."""
    training_curves(history_csv, curves_out, title)
    prediction_scatter(predictions_csv, label, title, train_out, test_out)
