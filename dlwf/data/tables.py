"""Tabular data on disk: checked CSV reading and the split-file contract.

A tabular split is a set of CSV files (``train.csv``, ``test.csv`` and optionally
``val.csv``) plus ``columns.json`` naming the feature and target columns, the task
('classification' or 'regression') and, for classification, the class names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import read_json


def read_csv_checked(path: str | Path, required: list[str] | None = None) -> pd.DataFrame:
    """Return the CSV at ``path``; raise a clear error if it is empty or lacks ``required`` columns."""
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError as exc:
        raise WorkflowInputError(f"{path}: the file is empty; expected a CSV with a header row") from exc
    except pd.errors.ParserError as exc:
        raise WorkflowInputError(f"{path}: not a valid CSV file ({exc})") from exc
    if frame.empty:
        raise WorkflowInputError(f"{path}: the CSV has a header but no data rows")
    missing = [c for c in (required or []) if c not in frame.columns]
    if missing:
        raise WorkflowInputError(
            f"{path}: missing column(s) {missing}; the file has {list(frame.columns)[:12]}"
            + (" ..." if len(frame.columns) > 12 else "")
        )
    return frame


def numeric_array(frame: pd.DataFrame, columns: list[str], path: str | Path) -> np.ndarray:
    """Return ``frame[columns]`` as float32; raise naming the file and column on non-numeric or NaN."""
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & ~frame[column].isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise WorkflowInputError(
                f"{path}: column {column!r} has a non-numeric value {frame[column].iloc[row]!r} "
                f"(data row {row + 1}); clean the file or drop the column"
            )
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise WorkflowInputError(
                f"{path}: column {column!r} has a missing (NaN) value in data row {row + 1}; "
                "missing values must be removed in the prepare step"
            )
    return frame[columns].to_numpy(dtype=np.float32)


def load_columns(path: str | Path) -> dict:
    """Return the column contract (features, targets, task, class_names) from ``columns.json``."""
    spec = read_json(path)
    for key in ("features", "targets", "task"):
        if key not in spec:
            raise WorkflowInputError(f"{path}: key {key!r} is missing")
    return spec


def load_xy(path: str | Path, columns: dict) -> tuple[np.ndarray, np.ndarray]:
    """Return (features, targets) float32 arrays of one split file."""
    frame = read_csv_checked(path, columns["features"] + columns["targets"])
    return numeric_array(frame, columns["features"], path), numeric_array(frame, columns["targets"], path)


def read_history(path: str | Path) -> pd.DataFrame:
    """Return a training history (history.csv: one row per epoch, 'epoch', 'loss' and more), checked.

    A file that is not such a table (garbage, truncated, replaced) raises WorkflowInputError
    naming it, rather than being read as zero epochs.
    """
    path = Path(path)
    fix = "delete it and run snakemake again so the rule that makes it trains the model anew"
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise WorkflowInputError(f"{path}: not a training history ({type(exc).__name__}); {fix}") from exc
    missing = [c for c in ("epoch", "loss") if c not in frame.columns]
    if missing or frame.empty:
        what = f"no column(s) {missing}" if missing else "no epochs"
        raise WorkflowInputError(f"{path}: not a training history ({what}); {fix}")
    values = frame.apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() and not frame.isna().equals(values.isna()):
        column = next(c for c in frame.columns if (values[c].isna() & frame[c].notna()).any())
        raise WorkflowInputError(f"{path}: not a training history (column {column!r} is not numeric); {fix}")
    if list(values["epoch"]) != list(range(1, len(values) + 1)):
        raise WorkflowInputError(f"{path}: not a training history (epochs are not 1..{len(values)}); {fix}")
    return values
