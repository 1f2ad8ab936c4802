"""Episode 3: predict tomorrow's sunshine hours in Basel from today's weather.

A *view* is the table one experiment learns from: the features of day ``i`` (some or all
columns, rows ``0..last_row`` as the lesson's ``data.loc[:last_row]``), the target's value on
day ``i + 1`` (``data.loc[1:last_row + 1]``) and the target's value on day ``i``, which is the
naive baseline prediction ("tomorrow is like today"). Nothing here assumes a column count:
the light (91 columns) and the full (165 columns) variants of the dataset both work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from dlwf.core.dates import DATE, ONE_DAY, parse_dates
from dlwf.core.errors import WorkflowInputError

from .tables import numeric_array, read_csv_checked

# Calendar columns of the dataset: kept out of the features, as in the lesson.
NOT_FEATURES = (DATE, "MONTH")


def next_day_column(target: str) -> str:
    """Return the name of the view column holding the target's value on the next day."""
    return f"{target}_next_day"


def baseline_column(target: str) -> str:
    """Return the name of the view column holding today's target value (the baseline prediction)."""
    return f"{target}_today"


def check_consecutive_days(dates: pd.Series, path) -> None:
    """Refuse dates that are not consecutive days, naming the first gap, repeat or step back."""
    steps = dates.diff().iloc[1:]
    bad = np.flatnonzero((steps != ONE_DAY).to_numpy())
    if not len(bad):
        return
    row = int(bad[0]) + 1  # 0-based index of the row after the step
    before, after = dates.iloc[row - 1].date(), dates.iloc[row].date()
    days = int((dates.iloc[row] - dates.iloc[row - 1]) / ONE_DAY)
    if days > 1:
        what = f"jumps from {before} (data row {row}) to {after} (data row {row + 1}): {days - 1} missing day(s)"
    elif days == 0:
        what = f"repeats {after} in data rows {row} and {row + 1}"
    else:
        what = f"goes back from {before} (data row {row}) to {after} (data row {row + 1})"
    more = f" ({len(bad) - 1} more step(s) like it)" if len(bad) > 1 else ""
    raise WorkflowInputError(
        f"{path}: column {DATE!r} {what}{more}; the target is the next row's value, so the rows must be consecutive "
        "days in order: fill in the missing days, or keep only a stretch without gaps"
    )


def read_weather(path: str, target: str) -> pd.DataFrame:
    """Return the raw weather table, checked: DATE consecutive days (any common date format), the target
    present, every other column numeric and finite."""
    data = read_csv_checked(path, [DATE, target])
    if target in NOT_FEATURES:
        raise WorkflowInputError(f"{path}: the target {target!r} is a calendar column; choose a measured column")
    for name in (next_day_column(target), baseline_column(target)):
        if name in data.columns:
            raise WorkflowInputError(f"{path}: column {name!r} clashes with a column the workflow adds; rename it")
    numeric_array(data, [c for c in data.columns if c not in NOT_FEATURES], path)  # names the first bad column, row
    check_consecutive_days(parse_dates(data[DATE], path), path)
    return data.reset_index(drop=True)


def feature_columns(data: pd.DataFrame, prefixes: Sequence[str] = (), where: str = "view") -> list[str]:
    """Return the feature columns: every column except DATE/MONTH, or those starting with one of ``prefixes``."""
    columns = [c for c in data.columns if c not in NOT_FEATURES]
    if prefixes:
        columns = [c for c in columns if c.startswith(tuple(prefixes))]
        if not columns:
            raise WorkflowInputError(
                f"{where}.feature_prefixes: no column starts with {list(prefixes)}; "
                f"columns are e.g. {[c for c in data.columns if c not in NOT_FEATURES][:6]}"
            )
    return columns


def make_view(
    data: pd.DataFrame,
    target: str,
    last_row: int | None = None,
    feature_prefixes: Sequence[str] = (),
    where: str = "view",
) -> pd.DataFrame:
    """Return DATE, the features of days 0..last_row, today's target and the next day's target.

    ``last_row`` is inclusive (the lesson's ``data.loc[:last_row]``); None takes every day that
    has a next day (``len(data) - 2``, the lesson's "all years").
    """
    last_possible = len(data) - 2
    if last_row is None:
        last_row = last_possible
    if not 1 <= last_row <= last_possible:
        raise WorkflowInputError(
            f"{where}.last_row: {last_row} is out of range; the data has {len(data)} rows (0..{len(data) - 1}) "
            f"and the last day with a next day is row {last_possible} (or use null for it)"
        )
    features = feature_columns(data, feature_prefixes, where)
    today = data.loc[:last_row]
    view = today[[DATE] + features].copy()
    view[baseline_column(target)] = today[target].to_numpy()
    view[next_day_column(target)] = data.loc[1 : last_row + 1, target].to_numpy()
    return view


def view_features(view: pd.DataFrame, target: str) -> list[str]:
    """Return the feature columns of a view table (all but DATE, the baseline and the target)."""
    reserved = {DATE, baseline_column(target), next_day_column(target)}
    return [c for c in view.columns if c not in reserved]


def split_sizes(n_rows: int, test_size: float, holdout_test_size: float, where: str = "split") -> dict[str, int]:
    """Rows of train, validation and test of a view of ``n_rows`` rows (scikit-learn's rounding); raise
    naming ``where`` when a part would be empty."""
    held = int(np.ceil(test_size * n_rows))
    test = int(np.ceil(holdout_test_size * held))
    sizes = {"train": n_rows - held, "validation": held - test, "test": test}
    if min(sizes.values()) < 1:
        raise WorkflowInputError(
            f"{where}: a view of {n_rows} rows split with test_size {test_size} and holdout_test_size "
            f"{holdout_test_size} gives {sizes['train']} training, {sizes['validation']} validation and "
            f"{sizes['test']} test row(s); each needs at least one: use a longer view (last_row) or other shares"
        )
    return sizes


def split_view(
    view: pd.DataFrame,
    test_size: float = 0.3,
    holdout_test_size: float = 0.5,
    random_state: int = 0,
    where: str = "split",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (train, validation, test): the lesson's two train_test_split calls on the view's rows.

    ``test_size`` of the rows are held out; ``holdout_test_size`` of those become the test set,
    the rest the validation set (767 / 164 / 165 rows for the lesson's 3-year view).
    """
    split_sizes(len(view), test_size, holdout_test_size, where)
    train, holdout = train_test_split(view, test_size=test_size, random_state=random_state)
    validation, test = train_test_split(holdout, test_size=holdout_test_size, random_state=random_state)
    return train, validation, test


def columns_contract(view: pd.DataFrame, target: str) -> dict:
    """Return the columns.json content of a weather split (the contract in :mod:`dlwf.data.tables`)."""
    features = view_features(view, target)
    return {
        "task": "regression",
        "target": next_day_column(target),
        "features": features,
        "numeric": features,
        "categorical_inputs": {},
        "vocabularies": {},
        "id_column": DATE,
        "baseline": baseline_column(target),
        "baseline_name": f"naive: tomorrow's {target} equals today's",
        "target_label": f"{target} (next day)",
    }
