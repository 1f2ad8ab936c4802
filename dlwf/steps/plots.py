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
    try:
        confusion = pd.read_csv(confusion_csv, index_col=0)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise WorkflowInputError(f"{confusion_csv}: not a confusion matrix ({exc}); delete it and rerun") from exc
    save_figure(plots.confusion_heatmap(confusion, title), figure_out)
