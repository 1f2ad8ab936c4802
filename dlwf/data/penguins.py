"""Episode 2: the Palmer penguins classification data."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from dlwf.core.errors import WorkflowInputError

from .tables import numeric_array, read_csv_checked

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
TARGET = "species"


def prepare(path: str, features: list[str] = FEATURES, target: str = TARGET) -> pd.DataFrame:
    """Return the numeric features and the species of the complete rows of the raw CSV."""
    raw = read_csv_checked(path, features + [target])
    clean = raw[features + [target]].dropna().reset_index(drop=True)
    if clean.empty:
        raise WorkflowInputError(f"{path}: no row is complete in columns {features + [target]}")
    numeric_array(clean, features, path)  # raises on non-numeric values, naming the column
    return clean


def one_hot(species: pd.Series) -> pd.DataFrame:
    """Return the one-hot encoding of ``species`` as float32 columns named by class."""
    # pandas 3 returns bool dummies; training needs floats (mixed frames become object arrays)
    return pd.get_dummies(species).astype("float32")


def split(
    prepared: pd.DataFrame,
    features: list[str] = FEATURES,
    target: str = TARGET,
    test_size: float = 0.2,
    random_state: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Return stratified (train, test) frames of features + one-hot targets, and the class names."""
    targets = one_hot(prepared[target])
    x_train, x_test, y_train, y_test = train_test_split(
        prepared[features], targets, test_size=test_size, random_state=random_state,
        shuffle=True, stratify=targets,
    )
    train = pd.concat([x_train, y_train], axis=1)
    test = pd.concat([x_test, y_test], axis=1)
    return train, test, list(targets.columns)


def read_prepared(path: str) -> pd.DataFrame:
    """Return the prepared table (features + species) checked for the expected columns."""
    return read_csv_checked(path, FEATURES + [TARGET])
