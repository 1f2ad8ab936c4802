"""Tables on disk: any CSV/TSV read and checked, split, and the split-file contract.

A dataset of kind ``table`` is one CSV/TSV with a target column. :func:`read_table` keeps its
feature and target columns (rows with missing values dropped or refused, as configured) and
:func:`split_table` splits it into train / (validation) / test. A split is a set of CSV files
(``train.csv``, ``test.csv`` and optionally ``val.csv``) plus ``columns.json``, the contract
every table experiment (penguins, your own table, the weather views) is trained and evaluated by:

``task``          'classification' or 'regression'
``target``        the target column of the split files (class labels, or numbers)
``class_names``   (classification) the classes, sorted: the order of the model's outputs
``features``      the feature columns: ``numeric`` ones go to the model as one float32 array
                  (input ``features``), ``categorical`` ones as strings one-hot encoded inside
                  the model, each its own input (``categorical_inputs``: input name -> column)
``vocabularies``  (categorical) input name -> the categories seen in the training split
``baseline``      (regression) the column holding the baseline's prediction for each row
``id_column``     a column naming the rows, kept in predictions (optional)
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import REBUILD, read_json_checked

BASELINE_MEAN = "baseline: mean of the training targets"
FLOAT32_MAX = float(np.finfo(np.float32).max)
# more numeric classes than this (and than half the rows) is a regression target declared as classes
MAX_NUMERIC_CLASSES = 50


def separator_of(path: str | Path, separator: str | None = None) -> str:
    """The column separator: ``separator`` if given, tab for .tsv/.tab files, else a comma."""
    if separator:
        return separator
    return "\t" if Path(path).suffix.lower() in (".tsv", ".tab") else ","


def _header(path: Path, separator: str) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle, delimiter=separator), [])
    except UnicodeDecodeError as exc:
        raise WorkflowInputError(f"{path}: not a text CSV file ({exc}); expected UTF-8 text") from exc


def _header_problems(header: list[str], path: Path) -> None:
    """Refuse a header whose names are ambiguous: a name twice, two names differing only in surrounding
    spaces or upper/lower case, or a column without a name (pandas would invent 'Unnamed: N')."""
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise WorkflowInputError(
            f"{path}: column name(s) {duplicates} appear more than once in the header; every column needs its own "
            "name, or the workflow could read the wrong one"
        )
    blank = [i + 1 for i, name in enumerate(header) if not name.strip()]
    if blank:
        raise WorkflowInputError(
            f"{path}: column(s) {blank} of the header have no name (a separator at the end of each line, or a "
            "saved row index?); name them, or remove those columns"
        )
    by_key: dict[str, list[str]] = {}
    for name in header:
        by_key.setdefault(name.strip().casefold(), []).append(name)
    clashes = [names for names in by_key.values() if len(names) > 1]
    if clashes:
        raise WorkflowInputError(
            f"{path}: column names {clashes[0]} differ only in surrounding spaces or upper/lower case; "
            "the workflow could read the wrong one: rename or remove one of them"
        )


def _near_names(wanted: list[str], columns: list[str]) -> str:
    """' (the file has 'species ' ...)' for wanted names that a column matches up to spaces and case."""
    hints = []
    for name in wanted:
        near = [c for c in columns if c.strip().casefold() == name.strip().casefold()]
        if near:
            hints.append(f"{name!r} is written {near[0]!r} in the file")
    return f" ({'; '.join(hints)}: spaces and upper/lower case count)" if hints else ""


def read_csv_checked(
    path: str | Path, required: list[str] | None = None, separator: str | None = None, dtype=None
) -> pd.DataFrame:
    """Return the CSV at ``path``; raise a clear error if it is empty, lacks ``required`` columns, has
    ambiguous column names (see :func:`_header_problems`) or rows with more fields than the header
    (pandas would silently take the first column as the row index and shift every column)."""
    path = Path(path)
    separator = separator_of(path, separator)
    header = _header(path, separator) if path.is_file() else []
    if header:
        _header_problems(header, path)
    try:
        frame = pd.read_csv(path, sep=separator, dtype=dtype, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise WorkflowInputError(f"{path}: file not found") from exc
    except pd.errors.EmptyDataError as exc:
        raise WorkflowInputError(f"{path}: the file is empty; expected a CSV with a header row") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise WorkflowInputError(f"{path}: not a valid CSV file ({str(exc).strip()[:200]})") from exc
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        raise WorkflowInputError(
            f"{path}: the data rows have more fields than the header ({len(header)} names), so every column would "
            "be shifted; every row needs one value per named column (a separator at the end of each data line?)"
        )
    if frame.empty:
        raise WorkflowInputError(f"{path}: the CSV has a header but no data rows")
    missing = [c for c in (required or []) if c not in frame.columns]
    if missing:
        columns = [str(c) for c in frame.columns]
        raise WorkflowInputError(
            f"{path}: missing column(s) {missing}{_near_names(missing, columns)}; the file has {columns[:12]}"
            + (" ..." if len(columns) > 12 else "")
        )
    return frame


def numeric_array(frame: pd.DataFrame, columns: list[str], path: str | Path) -> np.ndarray:
    """Return ``frame[columns]`` as float32 (N, len(columns)); raise naming the file, column and data
    row of a non-numeric, missing (NaN) or infinite value."""
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
        numbers = values.to_numpy(dtype=np.float64)
        infinite = ~np.isfinite(numbers)
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise WorkflowInputError(
                f"{path}: column {column!r} has an infinite value {str(frame[column].iloc[row])!r} "
                f"in data row {row + 1}; "
                "a network cannot learn from it: remove the row or fix the value"
            )
        huge = np.abs(numbers) > FLOAT32_MAX
        if huge.any():
            row = int(np.flatnonzero(huge)[0])
            raise WorkflowInputError(
                f"{path}: column {column!r} has the value {str(frame[column].iloc[row])!r} in data row {row + 1}, "
                f"beyond the largest number a network computes with (float32, {FLOAT32_MAX:.3g}), so it would become "
                "infinite: rescale the column (other units) or fix the value"
            )
    return frame[columns].to_numpy(dtype=np.float32)


def _is_numeric(series: pd.Series) -> bool:
    """A column is numeric when any of its values parses as a number (others then are errors)."""
    present = series.dropna()
    return present.empty or bool(pd.to_numeric(present, errors="coerce").notna().any())


def _normalised_labels(labels: pd.Series, path: Path, target: str) -> tuple[pd.Series, list[str]]:
    """Class labels as text without surrounding spaces; refuse labels that differ only in case."""
    text = labels.astype(str)
    stripped = text.str.strip()
    notes = []
    changed = sorted(set(text[text != stripped]))
    if changed:
        notes.append(f"class label(s) {changed} had surrounding spaces, removed (so 'Adelie ' is 'Adelie')")
    by_case: dict[str, set[str]] = {}
    for label in set(stripped):
        by_case.setdefault(label.casefold(), set()).add(label)
    clashes = sorted(sorted(v) for v in by_case.values() if len(v) > 1)
    if clashes:
        raise WorkflowInputError(
            f"{path}: column {target!r} has class labels that differ only in upper/lower case: {clashes}; "
            "write each class one way"
        )
    return stripped, notes


def _category_notes(values: pd.Series, column: str) -> list[str]:
    """Notes on a categorical column's values: surrounding spaces (removed) and values that differ only in
    upper/lower case (kept apart: they may be different categories, or one written two ways)."""
    notes = []
    spaced = sorted(set(values[values != values.str.strip()]))
    if spaced:
        notes.append(f"column {column!r}: value(s) {spaced[:5]} had surrounding spaces, removed")
    by_case: dict[str, set[str]] = {}
    for value in set(values.str.strip()):
        by_case.setdefault(value.casefold(), set()).add(value)
    clashes = sorted(sorted(v) for v in by_case.values() if len(v) > 1)
    if clashes:
        notes.append(
            f"column {column!r}: values {clashes[:5]} differ only in upper/lower case and count as different "
            "categories; write each one way if they are the same"
        )
    return notes


def feature_columns(columns: list[str], target: str, features, id_column: str | None, path: Path) -> list[str]:
    """The feature columns chosen by the dataset's ``features`` setting (see config/schema.yaml)."""
    others = [c for c in columns if c not in (target, id_column)]
    if features is None:
        chosen = others
    elif isinstance(features, dict):
        unknown = [c for c in features["drop"] if c not in columns]
        if unknown:
            raise WorkflowInputError(f"{path}: features.drop names column(s) {unknown} the file does not have")
        chosen = [c for c in others if c not in features["drop"]]
    else:
        missing = [c for c in features if c not in columns]
        if missing:
            more = " ..." if len(columns) > 12 else ""
            raise WorkflowInputError(f"{path}: missing column(s) {missing}; the file has {columns[:12]}{more}")
        if target in features or (id_column and id_column in features):
            raise WorkflowInputError(f"{path}: the target or id column cannot also be a feature ({features})")
        chosen = list(features)
    if not chosen:
        raise WorkflowInputError(f"{path}: no feature column is left besides the target {target!r}")
    return chosen


def read_table(
    path: str | Path,
    target: str,
    task: str,
    features=None,
    categorical: list[str] | None = None,
    missing: str = "drop",
    id_column: str | None = None,
    separator: str | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Return (the table's id, feature and target columns, info) for a dataset of kind ``table``.

    ``features``: None (every other column), a list, or {'drop': [...]}; ``categorical``: the
    feature columns to one-hot encode (None: those that are not numeric). Rows with a missing
    value are dropped (``missing='drop'``, the lesson's ``penguins.dropna()``) or refused
    (``'error'``). Numeric features must be finite numbers; classification labels become text
    without surrounding spaces. ``info`` holds numeric, categorical, class_names, rows,
    dropped_rows and notes. Raises WorkflowInputError naming the file, column and row.
    """
    path = Path(path)
    frame = read_csv_checked(path, [target] + ([id_column] if id_column else []), separator)
    columns = [str(c) for c in frame.columns]
    chosen = feature_columns(columns, target, features, id_column, path)
    unknown = [c for c in (categorical or []) if c not in chosen]
    if unknown:
        raise WorkflowInputError(f"{path}: categorical names column(s) {unknown} that are not features ({chosen})")
    if categorical is None:
        categorical = [c for c in chosen if not _is_numeric(frame[c])]
    numeric = [c for c in chosen if c not in categorical]
    keep = ([id_column] if id_column else []) + chosen + [target]
    table = frame[keep]
    incomplete = table[chosen + [target]].isna().any(axis=1)
    if incomplete.any() and missing == "error":
        row = int(np.flatnonzero(incomplete.to_numpy())[0])
        column = next(c for c in chosen + [target] if pd.isna(table[c].iloc[row]))
        raise WorkflowInputError(
            f"{path}: column {column!r} has a missing value in data row {row + 1} (missing: error); "
            "fill it in, or set missing: drop to leave such rows out"
        )
    table = table[~incomplete].reset_index(drop=True)
    if table.empty:
        raise WorkflowInputError(f"{path}: no row is complete in columns {chosen + [target]}")
    numeric_array(table, numeric, path)  # raises on non-numeric or infinite values, naming the column and row
    notes = []
    class_names = None
    if task == "classification":
        labels, notes = _normalised_labels(table[target], path, target)
        table = table.assign(**{target: labels})
        class_names = sorted(set(labels))
        if len(class_names) < 2:
            raise WorkflowInputError(f"{path}: column {target!r} holds a single class {class_names}; nothing to learn")
        numbers = pd.to_numeric(table[target], errors="coerce")
        if numbers.notna().all() and len(class_names) > max(MAX_NUMERIC_CLASSES, len(table) // 2):
            raise WorkflowInputError(
                f"{path}: column {target!r} holds {len(class_names)} different numbers in {len(table)} rows, each "
                "taken as a class (task: classification); for a number to predict set task: regression"
            )
    else:
        try:
            numeric_array(table, [target], path)
        except WorkflowInputError as exc:
            if "non-numeric" not in str(exc):
                raise
            raise WorkflowInputError(
                f"{exc}; the target of a regression must be a number (for classes set task: classification)"
            ) from exc
    for column in categorical:
        text = table[column].astype(str)
        table[column] = text.str.strip()
        notes += _category_notes(text, column)
    info = {
        "numeric": numeric,
        "categorical": list(categorical),
        "class_names": class_names,
        "rows": int(len(table)),
        "dropped_rows": int(incomplete.sum()),
        "notes": notes,
    }
    return table, info


def one_hot(labels: pd.Series, class_names: list[str]) -> pd.DataFrame:
    """Return the one-hot encoding of ``labels`` as float32 columns in the order of ``class_names``."""
    # pandas 3 returns bool dummies; training needs floats (mixed frames become object arrays)
    encoded = pd.get_dummies(pd.Categorical(labels, categories=class_names))
    return encoded.astype("float32")


def _check_split(labels: pd.Series | None, n_rows: int, share: float, key: str, setting: str, path) -> None:
    """Refuse a split the rows cannot support, as scikit-learn's (stratified) train_test_split would,
    but naming the setting (``key``, described by ``setting``), the class and the counts."""
    size = int(np.ceil(share * n_rows))  # scikit-learn's size of the held-out part
    rest = n_rows - size
    if size < 1 or rest < 1:
        raise WorkflowInputError(
            f"{path}: {n_rows} rows cannot be split with {setting}: it leaves {size} row(s) for the held-out set "
            f"and {rest} for training; each needs at least one: use more rows or another {key}"
        )
    if labels is None:
        return
    counts = labels.value_counts().sort_index()
    if (counts < 2).any():
        rare = {str(k): int(v) for k, v in counts[counts < 2].items()}
        raise WorkflowInputError(
            f"{path}: class(es) {rare} have a single row; a stratified split needs at least 2 rows per class "
            "(one for training, one held out): add rows or remove the class"
        )
    for part, n in (("held-out", size), ("training", rest)):
        if n < len(counts):
            raise WorkflowInputError(
                f"{path}: {setting} of {n_rows} rows leaves {n} row(s) for the {part} set, fewer than the "
                f"{len(counts)} classes {dict((str(k), int(v)) for k, v in counts.items())}; a stratified split needs "
                f"at least one row of each class on each side: {'raise' if part == 'held-out' else 'lower'} {key}, "
                "or add rows"
            )


def split_table(
    prepared: pd.DataFrame,
    target: str,
    task: str,
    test_size: float = 0.2,
    validation_size: float = 0.0,
    random_state: int = 0,
    where: str = "table",
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """Return (train, validation or None, test) rows of a prepared table.

    Classification splits are stratified on the one-hot targets, exactly as the lesson's
    ``train_test_split(..., stratify=pd.get_dummies(species))`` (episode 2), so penguins keep the
    lesson's split. ``validation_size`` is a share of all rows, taken from what is left after
    the test set. Raises WorkflowInputError when a class or the table is too small to split.
    """
    from sklearn.model_selection import train_test_split  # here: readers of split files need no scikit-learn

    class_names = sorted(set(prepared[target])) if task == "classification" else None

    def stratify(frame):
        return one_hot(frame[target], class_names) if class_names else None

    labels = prepared[target] if class_names else None
    _check_split(labels, len(prepared), test_size, "split.test_size", f"split.test_size {test_size}", where)
    train, test = train_test_split(
        prepared, test_size=test_size, random_state=random_state, shuffle=True, stratify=stratify(prepared)
    )
    validation = None
    if validation_size:
        share = validation_size / (1 - test_size)
        setting = f"split.validation_size {validation_size} ({share:.3g} of the rows left after the test set)"
        _check_split(train[target] if class_names else None, len(train), share, "split.validation_size", setting, where)
        train, validation = train_test_split(
            train, test_size=share, random_state=random_state, shuffle=True, stratify=stratify(train)
        )
    return train, validation, test


def input_names(categorical: list[str]) -> dict[str, str]:
    """Model input name -> categorical column (column names may hold spaces or '/', input names may not)."""
    return {f"categorical_{i}": column for i, column in enumerate(categorical)}


def columns_contract(info: dict, target: str, train: pd.DataFrame, task: str, id_column: str | None) -> dict:
    """Return the columns.json content of a table split (see the module docstring)."""
    categorical = input_names(info["categorical"])
    contract = {
        "task": task,
        "target": target,
        "features": info["numeric"] + info["categorical"],
        "numeric": info["numeric"],
        "categorical_inputs": categorical,
        "vocabularies": {name: sorted(set(train[column].astype(str))) for name, column in categorical.items()},
        "id_column": id_column,
    }
    if task == "classification":
        contract["class_names"] = info["class_names"]
    else:
        contract["baseline"] = BASELINE_MEAN
        contract["baseline_name"] = "the mean of the training targets"
    return contract


def load_columns(path: str | Path) -> dict:
    """Return the column contract of a split from ``columns.json`` (see the module docstring), checked."""
    spec = read_json_checked(path, ("features", "target", "task"), "columns.json of a split")
    spec.setdefault("numeric", spec["features"])
    spec.setdefault("categorical_inputs", {})
    spec.setdefault("vocabularies", {})
    problems = []
    if spec["task"] not in ("classification", "regression"):
        problems.append(f"task {spec['task']!r}")
    for key in ("features", "numeric"):
        if not isinstance(spec[key], list) or not all(isinstance(c, str) for c in spec[key]):
            problems.append(f"{key} is not a list of column names")
    if not isinstance(spec["categorical_inputs"], dict) or not isinstance(spec["vocabularies"], dict):
        problems.append("categorical_inputs/vocabularies are not objects")
    if spec["task"] == "classification" and not (
        isinstance(spec.get("class_names"), list) and len(spec["class_names"]) >= 2
    ):
        problems.append("no class_names")
    if problems:
        raise WorkflowInputError(f"{path}: not a valid columns.json of a split ({'; '.join(problems)}); {REBUILD}")
    return spec


def model_inputs(frame: pd.DataFrame, columns: dict, path: str | Path):
    """The model's inputs for the rows of ``frame``: the numeric features as float32 (N, k), or with
    categorical features a dict {'features': (N, k), 'categorical_i': strings (N, 1), ...}."""
    numeric = numeric_array(frame, columns["numeric"], path)
    if not columns["categorical_inputs"]:
        return numeric
    inputs = {"features": numeric} if columns["numeric"] else {}
    for name, column in columns["categorical_inputs"].items():
        values = frame[column]
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise WorkflowInputError(f"{path}: column {column!r} has a missing value in data row {row + 1}")
        inputs[name] = values.astype(str).str.strip().to_numpy(dtype=object).reshape(-1, 1)
    return inputs


def targets(frame: pd.DataFrame, columns: dict, path: str | Path) -> np.ndarray:
    """The targets of the rows of ``frame``: one-hot (N, classes) float32, or (N, 1) values."""
    if columns["task"] == "classification":
        labels = frame[columns["target"]].astype(str)
        unknown = sorted(set(labels) - set(columns["class_names"]))
        if unknown:
            raise WorkflowInputError(f"{path}: unknown class(es) {unknown}; known: {columns['class_names']}")
        return one_hot(labels, columns["class_names"]).to_numpy(dtype=np.float32)
    return numeric_array(frame, [columns["target"]], path)


def load_xy(path: str | Path, columns: dict):
    """Return (model inputs, targets) of one split file (see :func:`model_inputs`, :func:`targets`)."""
    dtype = {columns["target"]: str} if columns["task"] == "classification" else None
    dtype = {**(dtype or {}), **{c: str for c in columns["categorical_inputs"].values()}} or None
    frame = read_csv_checked(path, columns["features"] + [columns["target"]], dtype=dtype)
    return model_inputs(frame, columns, path), targets(frame, columns, path)


def read_history(path: str | Path) -> pd.DataFrame:
    """Return a training history (history.csv: one row per epoch, 'epoch', 'loss' and more), checked.

    A file that is not such a table (garbage, truncated, replaced) raises WorkflowInputError
    naming it, rather than being read as zero epochs.
    """
    path = Path(path)
    fix = "delete it and run snakemake again so the rule that makes it trains the model anew"
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError as exc:
        raise WorkflowInputError(f"{path}: file not found; run snakemake again to make it") from exc
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
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
