"""Rules of rules/penguins.smk: episode 2's data, prepared, split and explored."""

from __future__ import annotations

from dlwf.core.fileio import save_figure, write_csv, write_json
from dlwf.data import penguins


def prepare(raw: str, prepared_out: str) -> None:
    """Keep the four numeric features and the species of the complete rows of the raw CSV."""
    prepared = penguins.prepare(raw)
    print(f"{len(prepared)} complete rows; species counts:\n{prepared[penguins.TARGET].value_counts()}")
    write_csv(prepared, prepared_out)


def split(prepared_csv: str, test_size: float, random_state: int, train_out: str, test_out: str,
          columns_out: str) -> None:
    """Stratified train/test split with one-hot species targets, and the split's columns.json."""
    prepared = penguins.read_prepared(prepared_csv)
    train, test, classes = penguins.split(prepared, test_size=test_size, random_state=random_state)
    print(f"train {len(train)} rows, test {len(test)} rows; test per class {test[classes].sum().to_dict()}")
    write_csv(train, train_out)
    write_csv(test, test_out)
    write_json(
        {"features": penguins.FEATURES, "targets": classes, "task": "classification", "class_names": classes},
        columns_out,
    )


def pairplot(prepared_csv: str, figure_out: str) -> None:
    """The exploration figure: every feature against every other, coloured by species."""
    from dlwf.report import plots  # only the figure rules need matplotlib

    prepared = penguins.read_prepared(prepared_csv)
    save_figure(plots.pairplot(prepared, hue=penguins.TARGET), figure_out)
