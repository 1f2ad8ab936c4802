"""Penguins data preparation and split (episode 2)."""

import numpy as np
import pandas as pd
import pytest

from dlwf.core.errors import WorkflowInputError
from dlwf.data import download, penguins


@pytest.fixture
def tiny_csv(tmp_path):
    frame = pd.DataFrame(
        {
            "species": ["Adelie", "Gentoo", "Chinstrap", "Adelie"],
            "island": ["a", "b", "c", "d"],
            "bill_length_mm": [39.1, 46.1, np.nan, 38.0],
            "bill_depth_mm": [18.7, 13.2, 17.0, 17.5],
            "flipper_length_mm": [181, 211, 190, 185],
            "body_mass_g": [3750, 4500, 3600, 3400],
        }
    )
    path = tmp_path / "penguins.csv"
    frame.to_csv(path, index=False)
    return path


def test_prepare_drops_incomplete_rows_and_keeps_numeric_features(tiny_csv):
    prepared = penguins.prepare(str(tiny_csv))
    assert list(prepared.columns) == penguins.FEATURES + ["species"]
    assert len(prepared) == 3
    assert "Chinstrap" not in set(prepared["species"])


def test_one_hot_is_float_not_bool():
    encoded = penguins.one_hot(pd.Series(["Adelie", "Gentoo", "Adelie"]))
    assert list(encoded.columns) == ["Adelie", "Gentoo"]
    assert all(dtype == np.float32 for dtype in encoded.dtypes)
    assert encoded.to_numpy().tolist() == [[1, 0], [0, 1], [1, 0]]


def test_missing_column_is_named(tmp_path, tiny_csv):
    frame = pd.read_csv(tiny_csv).drop(columns=["body_mass_g"])
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(WorkflowInputError, match=r"bad.csv: missing column\(s\) \['body_mass_g'\]"):
        penguins.prepare(str(bad))


def test_non_numeric_feature_is_named(tmp_path, tiny_csv):
    frame = pd.read_csv(tiny_csv)
    frame["flipper_length_mm"] = frame["flipper_length_mm"].astype(object)
    frame.loc[0, "flipper_length_mm"] = "long"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(WorkflowInputError, match="column 'flipper_length_mm' has a non-numeric value 'long'"):
        penguins.prepare(str(bad))


def test_empty_csv_is_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(WorkflowInputError, match="empty.csv: the file is empty"):
        penguins.prepare(str(empty))


def test_real_table_gives_lesson_split(tmp_path):
    raw = tmp_path / "penguins.csv"
    download.fetch("package://palmerpenguins/data/penguins.csv", raw)
    prepared = penguins.prepare(str(raw))
    assert len(prepared) == 342
    train, test, classes = penguins.split(prepared, test_size=0.2, random_state=0)
    assert classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert (len(train), len(test)) == (273, 69)
    assert test[classes].sum().tolist() == [30, 14, 25]
    assert not set(train.index) & set(test.index)
