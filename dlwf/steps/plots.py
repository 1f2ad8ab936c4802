"""Every figure of a trained run, drawn from its result files by its evaluation job (no TensorFlow)."""

from __future__ import annotations

import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import REBUILD, save_figure
from dlwf.data.tables import numeric_array, read_csv_checked, read_history
from dlwf.report import plots


def training_curves(history_csv: str, figure_out: str, title: str) -> None:
    """Training and validation curves per metric, from history.csv."""
    save_figure(plots.training_curves(read_history(history_csv), title), figure_out)


def confusion_matrix(confusion_csv: str, figure_out: str, title: str) -> None:
    """Heatmap of a confusion-matrix CSV (true labels as rows, predicted as columns) with class names."""
    fix = "delete it and run snakemake again so the evaluation that writes it runs anew"
    try:
        confusion = pd.read_csv(confusion_csv, index_col=0)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise WorkflowInputError(f"{confusion_csv}: not a confusion matrix ({exc}); {fix}") from exc
    counts = confusion.apply(pd.to_numeric, errors="coerce")
    square = confusion.shape[0] == confusion.shape[1] and list(confusion.index.astype(str)) == list(confusion.columns)
    if confusion.empty or counts.isna().any().any() or not square or (counts < 0).any().any():
        raise WorkflowInputError(
            f"{confusion_csv}: not a confusion matrix (a square table of counts, true classes as rows and predicted "
            f"as columns); {fix}"
        )
    confusion = counts.astype(int)
    save_figure(plots.confusion_heatmap(confusion, title), figure_out)


def prediction_scatter(predictions_csv: str, label: str, title: str, train_out: str, test_out: str) -> None:
    """Predicted vs true values on the train and test sets, the baseline's beside the model's."""
    predictions = read_csv_checked(predictions_csv, ["split", "true", "predicted", "baseline"])
    numeric_array(predictions, ["true", "predicted", "baseline"], predictions_csv)
    missing = sorted({"train", "test"} - set(predictions["split"]))
    if missing:
        raise WorkflowInputError(f"{predictions_csv}: no rows of split(s) {missing}; {REBUILD}")
    for split, dest in (("train", train_out), ("test", test_out)):
        fig = plots.prediction_scatter(predictions, split, label)
        fig.suptitle(title)
        save_figure(fig, dest)


def run_figures(
    title: str,
    history_csv: str,
    figures: dict[str, str],
    confusion_csv: str | None = None,
    predictions_csv: str | None = None,
    label: str = "value",
) -> None:
    """Draw a trained run's figures, as many as ``figures`` names: curves (from history.csv),
    confusion_plot (from the confusion-matrix CSV), scatter_train and scatter_test (from a
    regressor's predictions.csv, ``label`` naming the target)."""
    if "curves" in figures:
        training_curves(history_csv, figures["curves"], title)
    if "confusion_plot" in figures:
        confusion_matrix(confusion_csv, figures["confusion_plot"], title)
    if "scatter_train" in figures:
        prediction_scatter(predictions_csv, label, title, figures["scatter_train"], figures["scatter_test"])
