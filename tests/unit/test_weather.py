"""Episode 3 data steps on small synthetic tables: views, target alignment, split, baseline, evaluation."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.model_selection import train_test_split

from dlwf.core import runtime
from dlwf.core.errors import WorkflowInputError
from dlwf.data import weather
from tests.workflow import REPO, experiment_settings

runtime.configure_tensorflow(1)

import keras  # noqa: E402

from dlwf.data import tables  # noqa: E402
from dlwf.evaluate import metrics  # noqa: E402
from dlwf.nn.builders import build_model  # noqa: E402
from dlwf.report import plots  # noqa: E402
from dlwf.steps import common, tabular  # noqa: E402

TARGET = "BASEL_sunshine"
BASEL = [
    "cloud_cover",
    "humidity",
    "pressure",
    "global_radiation",
    "precipitation",
    "sunshine",
    "temp_mean",
    "temp_min",
    "temp_max",
]


def synthetic(n_rows: int, other_places: int = 2, seed: int = 0) -> pd.DataFrame:
    """A table shaped like the weather dataset: DATE, MONTH, 9 Basel columns, 3 columns per other place."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2000-01-01", periods=n_rows, freq="D")
    data = {"DATE": dates.strftime("%Y%m%d").astype(int), "MONTH": dates.month}
    for name in BASEL:
        data[f"BASEL_{name}"] = rng.uniform(0, 15, n_rows).round(1)
    for place in range(other_places):
        for name in ("temp_mean", "temp_min", "temp_max"):
            data[f"PLACE{place}_{name}"] = rng.normal(10, 5, n_rows).round(1)
    return pd.DataFrame(data)


def lesson_split(data: pd.DataFrame, nr_rows: int, columns=None):
    """The lesson's code, verbatim in spirit: data.loc slices and two train_test_split calls."""
    x_data = data.loc[:nr_rows].drop(columns=["DATE", "MONTH"])
    if columns is not None:
        x_data = x_data[columns]
    y_data = data.loc[1 : (nr_rows + 1)][TARGET]
    x_train, x_holdout, y_train, y_holdout = train_test_split(x_data, y_data, test_size=0.3, random_state=0)
    x_val, x_test, y_val, y_test = train_test_split(x_holdout, y_holdout, test_size=0.5, random_state=0)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def test_view_rows_follow_last_row_inclusive():
    data = synthetic(50)
    assert len(weather.make_view(data, TARGET, last_row=10)) == 11  # data.loc[:10]
    assert len(weather.make_view(data, TARGET, last_row=None)) == 49  # every day with a next day
    assert len(weather.make_view(data, TARGET, last_row=48)) == 49


def test_target_is_next_days_value_and_baseline_todays():
    data = synthetic(30)
    view = weather.make_view(data, TARGET, last_row=20)
    nxt, today = weather.next_day_column(TARGET), weather.baseline_column(TARGET)
    for i in range(len(view)):
        assert view[nxt].iloc[i] == data[TARGET].iloc[i + 1]
        assert view[today].iloc[i] == data[TARGET].iloc[i]
        assert view["DATE"].iloc[i] == data["DATE"].iloc[i]


def test_features_exclude_calendar_and_follow_the_columns_present():
    small, wide = synthetic(20, other_places=1), synthetic(20, other_places=20)
    for data in (small, wide):
        features = weather.view_features(weather.make_view(data, TARGET, last_row=5), TARGET)
        assert features == [c for c in data.columns if c not in ("DATE", "MONTH")]
    basel = weather.view_features(weather.make_view(wide, TARGET, 5, feature_prefixes=["BASEL_"]), TARGET)
    assert basel == [f"BASEL_{n}" for n in BASEL]


def test_view_without_target_feature_still_has_baseline():
    data = synthetic(20)
    view = weather.make_view(data, TARGET, last_row=5, feature_prefixes=["PLACE0_"])
    assert TARGET not in weather.view_features(view, TARGET)
    assert view[weather.baseline_column(TARGET)].tolist() == data[TARGET].iloc[:6].tolist()


def test_three_year_split_sizes_match_the_lesson():
    view = weather.make_view(synthetic(1200), TARGET, last_row=365 * 3)
    train, validation, test = weather.split_view(view, test_size=0.3, holdout_test_size=0.5, random_state=0)
    assert (len(train), len(validation), len(test)) == (767, 164, 165)
    assert set(train.index).isdisjoint(validation.index) and set(validation.index).isdisjoint(test.index)


def test_split_rows_are_the_lessons_rows():
    data = synthetic(400)
    view = weather.make_view(data, TARGET, last_row=300, feature_prefixes=["BASEL_"])
    ours = weather.split_view(view)
    lessons = lesson_split(data, 300, columns=[f"BASEL_{n}" for n in BASEL])
    features = weather.view_features(view, TARGET)
    for frame, (x, y) in zip(ours, lessons, strict=True):
        np.testing.assert_array_equal(frame[features].to_numpy(), x.to_numpy())
        np.testing.assert_array_equal(frame[weather.next_day_column(TARGET)].to_numpy(), y.to_numpy())


def baseline_rmse(frame):
    return metrics.rmse(frame[weather.next_day_column(TARGET)], frame[weather.baseline_column(TARGET)])


def test_baseline_rmse_on_a_synthetic_frame():
    data = synthetic(10)
    data[TARGET] = [0.0, 2.0] * 5  # tomorrow always differs from today by 2 hours
    view = weather.make_view(data, TARGET)
    assert baseline_rmse(view) == pytest.approx(2.0, abs=1e-12)
    data = synthetic(500)
    view = weather.make_view(data, TARGET, last_row=400)
    _, _, test = weather.split_view(view)
    (_, _), (_, _), (x_test, y_test) = lesson_split(data, 400)
    expected = float(np.sqrt(np.mean((y_test.to_numpy() - x_test[TARGET].to_numpy()) ** 2)))
    assert baseline_rmse(test) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"last_row": 49}, "datasets.weather.views.v.last_row: 49 is out of range"),
        ({"last_row": 0}, "datasets.weather.views.v.last_row: 0 is out of range"),
        ({"feature_prefixes": ["PARIS_"]}, "datasets.weather.views.v.feature_prefixes: no column starts with"),
    ],
)
def test_bad_view_settings_name_the_key(kwargs, message):
    with pytest.raises(WorkflowInputError, match=message.replace(".", r"\.")):
        weather.make_view(synthetic(50), TARGET, where="datasets.weather.views.v", **kwargs)


def test_read_weather_rejects_unsorted_days_and_bad_values(tmp_path):
    data = synthetic(10)
    path = tmp_path / "w.csv"
    data.iloc[[0, 2, 1, 3, 4]].to_csv(path, index=False)
    gap = r"DATE' jumps from \S+ \(data row 1\) to \S+ \(data row 2\): 1 missing"
    with pytest.raises(WorkflowInputError, match=gap):
        weather.read_weather(path, TARGET)
    bad = data.astype({"BASEL_humidity": object})
    bad.loc[3, "BASEL_humidity"] = "cloudy"
    bad.to_csv(path, index=False)
    with pytest.raises(WorkflowInputError, match="column 'BASEL_humidity' has a non-numeric value 'cloudy'"):
        weather.read_weather(path, TARGET)
    data.drop(columns=[TARGET]).to_csv(path, index=False)
    with pytest.raises(WorkflowInputError, match=r"missing column\(s\) \['BASEL_sunshine'\]"):
        weather.read_weather(path, TARGET)


def _config_experiment(name):
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())["experiments"][name]


def test_basel_9y_model_has_the_lessons_6137_parameters():
    spec = _config_experiment("basel_9y")
    view = weather.make_view(synthetic(40, other_places=5), TARGET, feature_prefixes=["BASEL_"])
    features = weather.view_features(view, TARGET)
    keras.utils.set_random_seed(spec["seed"])
    model = build_model(spec["model"]["builder"], (len(features),), 1, spec["model"]["args"])
    assert model.count_params() == 6137
    assert model.layers[-1].activation.__name__ == "linear"


def test_evaluate_regressor_writes_metrics_with_the_baseline(tmp_path):
    data = synthetic(120)
    view = weather.make_view(data, TARGET, last_row=100)
    splits = dict(zip(["train", "val", "test"], weather.split_view(view), strict=True))
    for name, frame in splits.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    (tmp_path / "columns.json").write_text(json.dumps(weather.columns_contract(view, TARGET)))
    n_features = len(weather.view_features(view, TARGET))
    keras.utils.set_random_seed(0)
    model = build_model("dense", (n_features,), 1, {"hidden_units": [4]})
    model.save(tmp_path / "model.keras")
    pd.DataFrame({"epoch": [1, 2], "loss": [2.0, 1.0], "val_loss": [2.0, 1.5]}).to_csv(tmp_path / "h.csv")
    raw = tmp_path / "raw.csv"
    data.to_csv(raw, index=False)
    spec = experiment_settings("dense_100_50", {"training": {"epochs": 5, "early_stopping": {"patience": 1}}})
    split = {
        part: str(tmp_path / f"{name}.csv")
        for part, name in (("train", "train"), ("validation", "val"), ("test", "test"), ("columns", "columns"))
    }
    split["columns"] = str(tmp_path / "columns.json")
    columns = tables.load_columns(split["columns"])
    common.save_outputs(
        str(tmp_path / "model.keras"),
        {part: tables.load_xy(split[part], columns)[0] for part in ("train", "validation", "test")},
        str(tmp_path / "outputs.npz"),
    )
    record = tabular.evaluate(
        "exp",
        spec,
        str(tmp_path / "model.keras"),
        str(tmp_path / "outputs.npz"),
        str(tmp_path / "h.csv"),
        split,
        [str(raw)],
        str(tmp_path / "metrics.json"),
        str(tmp_path / "predictions.csv"),
    )
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["baseline"]["rmse"] == record["baseline"]["rmse"] == baseline_rmse(splits["test"])
    assert set(on_disk["metrics"]["rmse_by_split"]) == {"train", "validation", "test"}
    assert on_disk["primary_metric"] == {"name": "rmse", "value": on_disk["metrics"]["rmse"], "higher_is_better": False}
    assert on_disk["beats_baseline"] == (on_disk["metrics"]["rmse"] < on_disk["baseline"]["rmse"])
    assert on_disk["n_parameters"] == model.count_params() and on_disk["epochs_run"] == 2
    assert on_disk["stopped_early"] is True
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    assert predictions["split"].value_counts().to_dict() == {
        n: len(f) for n, f in zip(["train", "validation", "test"], splits.values(), strict=True)
    }
    test_rows = predictions[predictions["split"] == "test"]
    np.testing.assert_array_equal(test_rows["true"], splits["test"][weather.next_day_column(TARGET)])
    np.testing.assert_array_equal(test_rows["DATE"], splits["test"]["DATE"])
    expected = model.predict(splits["test"][weather.view_features(view, TARGET)].to_numpy("float32"), verbose=0)
    np.testing.assert_allclose(test_rows["predicted"], expected.ravel(), rtol=1e-6)


def test_prediction_scatter_shows_model_beside_baseline(tmp_path):
    predictions = pd.DataFrame(
        {
            "split": ["train"] * 3 + ["test"] * 3,
            "true": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "predicted": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0],
            "baseline": [0.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    fig = plots.prediction_scatter(predictions, "test", "sunshine hours")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("model on the test set") and titles[1].startswith("baseline on the test set")
    assert "RMSE 0.58" in titles[0] and "RMSE 0.00" in titles[1]
    csv = tmp_path / "p.csv"
    predictions.to_csv(csv, index=False)
    from dlwf.steps import plots as plot_steps

    plot_steps.prediction_scatter(str(csv), "sunshine", "exp", str(tmp_path / "s.png"), str(tmp_path / "t.png"))
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "t.png").stat().st_size > 0
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
