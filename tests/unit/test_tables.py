"""Datasets of kind `table` (any CSV/TSV): reading, the lesson's penguins split, categorical
features inside the model, predictions on new rows (issue: your own problem)."""

import json

import numpy as np
import pandas as pd
import pytest

from dlwf.core import runtime
from dlwf.core.errors import WorkflowInputError
from dlwf.data import download, tables
from tests.workflow import experiment_settings

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def read(path, **changes):
    settings = {"target": "species", "task": "classification", "features": FEATURES, **changes}
    return tables.read_table(path, **settings)


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


def test_read_drops_incomplete_rows_and_keeps_the_chosen_columns(tiny_csv):
    prepared, info = read(tiny_csv)
    assert list(prepared.columns) == FEATURES + ["species"]
    assert len(prepared) == 3 and info["dropped_rows"] == 1 and info["rows"] == 3
    assert info["class_names"] == ["Adelie", "Gentoo"] and info["numeric"] == FEATURES
    with pytest.raises(
        WorkflowInputError,
        match=r"column 'bill_length_mm' has a missing value in data row 3 "
        r"\(missing: error\)",
    ):
        read(tiny_csv, missing="error")


def test_features_default_to_every_other_column_and_text_columns_are_categorical(tiny_csv):
    _, info = read(tiny_csv, features=None)
    assert info["categorical"] == ["island"] and "species" not in info["numeric"]
    _, info = read(tiny_csv, features={"drop": ["island"]})
    assert info["categorical"] == [] and info["numeric"] == FEATURES


def test_one_hot_is_float_in_the_order_of_the_class_names():
    encoded = tables.one_hot(pd.Series(["Adelie", "Gentoo", "Adelie"]), ["Adelie", "Chinstrap", "Gentoo"])
    assert all(dtype == np.float32 for dtype in encoded.dtypes)
    assert encoded.to_numpy().tolist() == [[1, 0, 0], [0, 0, 1], [1, 0, 0]]


def test_missing_column_is_named(tmp_path, tiny_csv):
    frame = pd.read_csv(tiny_csv).drop(columns=["body_mass_g"])
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(WorkflowInputError, match=r"bad.csv: missing column\(s\) \['body_mass_g'\]"):
        read(bad)


def test_non_numeric_feature_is_named(tmp_path, tiny_csv):
    frame = pd.read_csv(tiny_csv)
    frame["flipper_length_mm"] = frame["flipper_length_mm"].astype(object)
    frame.loc[0, "flipper_length_mm"] = "long"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(WorkflowInputError, match="column 'flipper_length_mm' has a non-numeric value 'long'"):
        read(bad)


def test_empty_csv_is_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(WorkflowInputError, match="empty.csv: the file is empty"):
        read(empty)


def test_tsv_and_column_names_with_spaces_and_slashes(tmp_path):
    path = tmp_path / "table.tsv"
    pd.DataFrame({"od280/od315 of wines": [1.0, 2.0, 3.0, 4.0], "my target": ["a", "b", "a", "b"]}).to_csv(
        path, sep="\t", index=False
    )
    prepared, info = tables.read_table(path, "my target", "classification")
    assert info["numeric"] == ["od280/od315 of wines"] and list(prepared["my target"]) == ["a", "b", "a", "b"]


def test_real_table_gives_the_lessons_split(tmp_path):
    raw = tmp_path / "penguins.csv"
    download.fetch("package://palmerpenguins/data/penguins.csv", raw)
    prepared, info = read(raw)
    assert len(prepared) == 342 and info["dropped_rows"] == 2
    train, validation, test = tables.split_table(prepared, "species", "classification", 0.2, 0.0, 0)
    assert validation is None and (len(train), len(test)) == (273, 69)
    assert test["species"].value_counts().sort_index().tolist() == [30, 14, 25]
    assert not set(train.index) & set(test.index)


def test_validation_share_is_taken_from_all_rows_and_stratified(tmp_path):
    frame = pd.DataFrame({"x": np.arange(100.0), "y": ["a", "b"] * 50})
    train, validation, test = tables.split_table(frame, "y", "classification", 0.2, 0.2, 0)
    assert (len(train), len(validation), len(test)) == (60, 20, 20)
    assert validation["y"].value_counts().tolist() == [10, 10]


def test_regression_split_files_carry_the_training_mean_as_the_baseline(tmp_path):
    from dlwf.steps import tables as steps

    raw = tmp_path / "t.csv"
    pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) * 2}).to_csv(raw, index=False)
    steps.prepare(
        str(raw), "y", "regression", None, None, "drop", None, None, str(tmp_path / "p.csv"), str(tmp_path / "p.json")
    )
    out = {n: str(tmp_path / f"{n}.csv") for n in ("train", "test")}
    steps.split(
        str(tmp_path / "p.csv"),
        str(tmp_path / "p.json"),
        0.25,
        0.0,
        0,
        out["train"],
        out["test"],
        str(tmp_path / "columns.json"),
    )
    train, test = pd.read_csv(out["train"]), pd.read_csv(out["test"])
    columns = json.loads((tmp_path / "columns.json").read_text())
    assert columns["task"] == "regression" and columns["baseline"] == tables.BASELINE_MEAN
    assert np.allclose(test[tables.BASELINE_MEAN], train["y"].mean()) and len(test) == 5


# ------------------------------------------------------------------ categorical features inside the model


def categorical_table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], n)
    frame = pd.DataFrame(
        {
            "island": island,
            "sex": rng.choice(["female", "male"], n),
            "bill length (mm)": rng.normal(44, 5, n) + (island == "Biscoe") * 5,
            "species": np.where(island == "Biscoe", "Gentoo", "Adelie"),
        }
    )
    return frame


def test_a_model_with_categorical_features_takes_raw_rows_and_loads_in_safe_mode(tmp_path):
    runtime.configure_tensorflow(1)
    import keras

    from dlwf.nn import training
    from dlwf.nn.model_io import load_model_checked, save_model
    from dlwf.steps import predict

    raw = tmp_path / "t.csv"
    categorical_table().to_csv(raw, index=False)
    prepared, info = tables.read_table(raw, "species", "classification")
    assert info["categorical"] == ["island", "sex"]
    train, _, test = tables.split_table(prepared, "species", "classification", 0.25, 0.0, 0)
    columns = tables.columns_contract(info, "species", train, "classification", None)
    assert columns["categorical_inputs"] == {"categorical_0": "island", "categorical_1": "sex"}
    x = tables.model_inputs(train, columns, raw)
    y = tables.targets(train, columns, raw)
    settings = experiment_settings(
        "dense10", {"training": {"epochs": 30, "validation": None}, "model": {"args": {"normalize": True}}}
    )
    model, _ = training.train(settings, x, y, 2, vocabularies=columns["vocabularies"])
    save_model(model, tmp_path / "model.keras")
    loaded = load_model_checked(tmp_path / "model.keras")
    assert isinstance(loaded.get_layer("categorical_0_onehot"), keras.layers.StringLookup)
    x_test = training.tensors(tables.model_inputs(test, columns, raw))
    np.testing.assert_allclose(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0), rtol=1e-6)
    # new rows: the training columns (any order, the target may be there); unseen categories are allowed
    (tmp_path / "columns.json").write_text(json.dumps(columns))
    new = categorical_table(5, seed=1).drop(columns=["species"])
    new.loc[0, "island"] = "Somewhere else"
    new[["sex", "bill length (mm)", "island"]].to_csv(tmp_path / "new.csv", index=False)
    rows = predict.predict_table(
        settings,
        str(tmp_path / "model.keras"),
        str(tmp_path / "columns.json"),
        str(tmp_path / "new.csv"),
        str(tmp_path / "predictions.csv"),
    )
    assert list(rows.columns) == ["row", "predicted", "p_Adelie", "p_Gentoo"] and len(rows) == 5
    assert np.allclose(rows[["p_Adelie", "p_Gentoo"]].sum(axis=1), 1.0, atol=1e-5)
    new.drop(columns=["sex"]).assign(colour="red").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(WorkflowInputError, match=r"missing \['sex'\], unexpected \['colour'\]"):
        predict.predict_table(
            settings,
            str(tmp_path / "model.keras"),
            str(tmp_path / "columns.json"),
            str(tmp_path / "bad.csv"),
            str(tmp_path / "p2.csv"),
        )
    assert not (tmp_path / "p2.csv").exists()
