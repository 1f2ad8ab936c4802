"""Rules of rules/plots.smk: figures drawn from result files (no TensorFlow)."""

from __future__ import annotations

import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import save_figure
from dlwf.data.tables import read_history
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
