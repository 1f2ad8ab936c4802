"""Rules of rules/tables.smk: a dataset of kind ``table`` (any CSV/TSV; the lesson's penguins,
episode 2) prepared, split and explored. Training and evaluation are in rules/tabular.smk."""

from __future__ import annotations

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import REBUILD, read_json_checked, save_figure, write_csv, write_json
from dlwf.data import tables


def prepare(
    raw: str,
    target: str,
    task: str,
    features,
    categorical,
    missing: str,
    id_column: str | None,
    separator: str | None,
    prepared_out: str,
    info_out: str,
) -> dict:
    """Keep the table's feature and target columns (rows with missing values dropped or refused);
    write prepared.csv and prepared.json (numeric/categorical features, classes, row counts)."""
    prepared, info = tables.read_table(
        raw,
        target,
        task,
        features=features,
        categorical=categorical,
        missing=missing,
        id_column=id_column,
        separator=separator,
    )
    for note in info["notes"]:
        print(f"note: {note}")
    print(
        f"{info['rows']} complete rows ({info['dropped_rows']} with a missing value left out); "
        f"{len(info['numeric'])} numeric and {len(info['categorical'])} categorical feature(s)"
    )
    if info["class_names"]:
        print(f"rows per class:\n{prepared[target].value_counts().sort_index().to_string()}")
    write_csv(prepared, prepared_out)
    write_json({**info, "target": target, "task": task, "id_column": id_column, "source": raw}, info_out)
    return info


PREPARED_KEYS = ("numeric", "categorical", "class_names", "target", "task", "id_column")


def read_info(info_json: str) -> dict:
    """Return prepared.json (what the prepare step kept), checked."""
    info = read_json_checked(info_json, PREPARED_KEYS, "prepared.json")
    valid = (
        info["task"] in ("classification", "regression")
        and isinstance(info["target"], str)
        and all(
            isinstance(info[k], list) and all(isinstance(c, str) for c in info[k]) for k in ("numeric", "categorical")
        )
        and (info["task"] == "regression" or isinstance(info["class_names"], list))
    )
    if not valid:
        raise WorkflowInputError(
            f"{info_json}: not a valid prepared.json (task, target, numeric, categorical or "
            f"class_names is not what the prepare step writes); {REBUILD}"
        )
    return info


def _read_prepared(prepared_csv: str, info: dict) -> object:
    dtype = {c: str for c in info["categorical"]}
    if info["task"] == "classification":
        dtype[info["target"]] = str
    return tables.read_csv_checked(prepared_csv, info["numeric"] + info["categorical"] + [info["target"]], dtype=dtype)


def split(
    prepared_csv: str,
    info_json: str,
    test_size: float,
    validation_size: float,
    random_state: int,
    train_out: str,
    test_out: str,
    columns_out: str,
    val_out: str | None = None,
    where: str = "split",
) -> None:
    """Train / (validation) / test split and the split's columns.json (see :mod:`dlwf.data.tables`)."""
    info = read_info(info_json)
    prepared = _read_prepared(prepared_csv, info)
    target, task = info["target"], info["task"]
    train, validation, test = tables.split_table(
        prepared, target, task, test_size, validation_size, random_state, where=where
    )
    parts = {"train": (train, train_out), "test": (test, test_out)}
    if validation is not None:
        parts["validation"] = (validation, val_out)
    if task == "regression":
        if tables.BASELINE_MEAN in prepared.columns:
            raise WorkflowInputError(
                f"{prepared_csv}: a column is named {tables.BASELINE_MEAN!r}, which the workflow adds; rename it"
            )
        mean = float(train[target].astype(float).mean())
        parts = {name: (frame.assign(**{tables.BASELINE_MEAN: mean}), dest) for name, (frame, dest) in parts.items()}
    for name, (frame, dest) in parts.items():
        counts = frame[target].value_counts().sort_index().to_dict() if task == "classification" else ""
        print(f"{name}: {len(frame)} rows {counts}")
        write_csv(frame, dest)
    write_json(tables.columns_contract(info, target, train, task, info["id_column"]), columns_out)


def pairplot(prepared_csv: str, info_json: str, figure_out: str, max_features: int = 6) -> None:
    """The exploration figure: the first numeric features against each other, coloured by class."""
    from dlwf.report import plots  # only the figure rules need matplotlib

    info = read_info(info_json)
    prepared = _read_prepared(prepared_csv, info)
    shown = info["numeric"][:max_features]
    hue = info["target"] if info["task"] == "classification" else None
    save_figure(plots.pairplot(prepared[shown + ([hue] if hue else [])], hue=hue), figure_out)
