"""The weather experiments (episode 3) on the real full-variant file via the mirror, with few epochs."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.model_selection import train_test_split

from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration

FULL = "weather_prediction_dataset.csv"
FULL_MD5 = "cb5c07c9d1307d41823a332d02e03bad"
LESSON_BASELINE_3Y = 3.877323350410224
VIEWS = {
    "dense_100_50": "3y",
    "dense_10_5": "3y",
    "dense_100_50_earlystop": "3y",
    "batchnorm_earlystop": "3y",
    "basel_9y": "basel_9y",
    "all_years": "all",
}
EARLY_STOPPING = ["dense_100_50_earlystop", "batchnorm_earlystop", "basel_9y", "all_years"]
CONTRACT = [
    "model.keras",
    "history.csv",
    "metrics.json",
    "predictions.csv",
    "training_curves.png",
    "predicted_vs_true_train.png",
    "predicted_vs_true_test.png",
]


def weather_overlay() -> dict:
    """Only the weather dataset, read as the full variant, with 3 epochs (5 at most with early stopping).

    min_delta is huge and patience 0 so that early stopping must end training after epoch 2.
    """
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    overlay = {"train_threads": 1, "datasets": {d: {"enabled": d == "weather"} for d in default["datasets"]}}
    overlay["datasets"]["weather"]["files"] = [
        {
            "name": FULL,
            "url": "https://zenodo.org/records/4980359/files/weather_prediction_dataset.csv?download=1",
            "md5": FULL_MD5,
        }
    ]
    stop = {"monitor": "val_loss", "patience": 0, "min_delta": 1.0e6}
    overlay["experiments"] = {e: {"training": {"epochs": 3}} for e in VIEWS if e not in EARLY_STOPPING}
    overlay["experiments"].update({e: {"training": {"epochs": 5, "early_stopping": stop}} for e in EARLY_STOPPING})
    return overlay


@pytest.fixture(scope="module")
def weather_run(tmp_path_factory, shared_data):
    workdir = copy_workflow(tmp_path_factory.mktemp("weather") / "wf")
    overlay = write_config(workdir, "test.yaml", weather_overlay())
    args = ("--configfile", str(overlay), "--config", f"mirror={shared_data}")
    snakemake(workdir, *args)
    return workdir, args, shared_data / "weather" / FULL


def metrics(workdir, experiment):
    return json.loads((workdir / "results/weather" / experiment / "metrics.json").read_text())


def lesson_baseline(raw: pd.DataFrame, nr_rows: int) -> float:
    """The lesson's code for the naive baseline's test RMSE on rows 0..nr_rows."""
    x_data = raw.loc[:nr_rows].drop(columns=["DATE", "MONTH"])
    y_data = raw.loc[1 : (nr_rows + 1)]["BASEL_sunshine"]
    _, x_holdout, _, y_holdout = train_test_split(x_data, y_data, test_size=0.3, random_state=0)
    _, x_test, _, y_test = train_test_split(x_holdout, y_holdout, test_size=0.5, random_state=0)
    return float(np.sqrt(np.mean((y_test.to_numpy() - x_test["BASEL_sunshine"].to_numpy()) ** 2)))


def test_results_contract_and_tensorboard_logs(weather_run):
    workdir, _, _ = weather_run
    for experiment in VIEWS:
        d = workdir / "results/weather" / experiment
        for name in CONTRACT:
            assert (d / name).stat().st_size > 0, (experiment, name)
        for png in ("training_curves.png", "predicted_vs_true_train.png", "predicted_vs_true_test.png"):
            assert (d / png).read_bytes()[:4] == b"\x89PNG" and (d / png).stat().st_size > 10_000, (experiment, png)
        for split in ("train", "validation"):
            events = list((d / "tensorboard" / split).glob("events.out.tfevents.*"))
            assert len(events) == 1, (experiment, split)
            assert b"epoch_rmse" in events[0].read_bytes() and b"epoch_loss" in events[0].read_bytes()
        history = pd.read_csv(d / "history.csv")
        assert {"epoch", "loss", "rmse", "val_loss", "val_rmse"} <= set(history.columns)
        assert (workdir / f"logs/weather/{experiment}/train.log").exists()
        assert (workdir / f"benchmarks/weather/{experiment}/evaluate.tsv").exists()
    provenance = json.loads((workdir / f"resources/weather/{FULL}.provenance.json").read_text())
    assert provenance["md5"] == FULL_MD5


def test_views_and_splits_follow_the_real_file(weather_run):
    workdir, _, raw_path = weather_run
    raw = pd.read_csv(raw_path)
    n_features = raw.shape[1] - 2  # every column but DATE and MONTH: 163 in the full variant
    expected_rows = {"3y": 365 * 3 + 1, "basel_9y": 365 * 9 + 1, "all": len(raw) - 1}
    for view, rows in expected_rows.items():
        split_dir = workdir / "results/weather/split" / view
        sizes = [len(pd.read_csv(split_dir / f"{s}.csv")) for s in ("train", "val", "test")]
        assert sum(sizes) == rows == len(pd.read_csv(workdir / f"results/weather/views/{view}.csv")), view
        columns = json.loads((split_dir / "columns.json").read_text())
        assert len(columns["features"]) == (9 if view == "basel_9y" else n_features), view
        assert columns["target"] == "BASEL_sunshine_next_day" and columns["task"] == "regression"
    assert [len(pd.read_csv(workdir / f"results/weather/split/3y/{s}.csv")) for s in ("train", "val", "test")] == [
        767,
        164,
        165,
    ]
    view = pd.read_csv(workdir / "results/weather/views/all.csv")
    np.testing.assert_array_equal(view["BASEL_sunshine_next_day"], raw["BASEL_sunshine"].iloc[1:])
    np.testing.assert_array_equal(view["DATE"], raw["DATE"].iloc[:-1])


def test_baseline_is_the_lessons_number_exactly(weather_run):
    workdir, _, raw_path = weather_run
    raw = pd.read_csv(raw_path)
    for experiment in ("dense_100_50", "dense_10_5", "dense_100_50_earlystop", "batchnorm_earlystop"):
        assert metrics(workdir, experiment)["baseline"]["rmse"] == pytest.approx(LESSON_BASELINE_3Y, abs=1e-9)
    assert metrics(workdir, "basel_9y")["baseline"]["rmse"] == pytest.approx(lesson_baseline(raw, 365 * 9), abs=1e-9)
    assert metrics(workdir, "all_years")["baseline"]["rmse"] == pytest.approx(
        lesson_baseline(raw, len(raw) - 2), abs=1e-9
    )


def test_metrics_parameters_and_early_stopping(weather_run):
    workdir, _, raw_path = weather_run
    n_features = len(pd.read_csv(raw_path, nrows=1).columns) - 2
    dense_100_50 = 100 * n_features + 100 + 100 * 50 + 50 + 51
    expected_params = {
        "dense_100_50": dense_100_50,
        "dense_10_5": 10 * n_features + 10 + 55 + 6,
        "dense_100_50_earlystop": dense_100_50,
        "batchnorm_earlystop": dense_100_50 + 4 * n_features,
        "basel_9y": 6137,
        "all_years": dense_100_50 + 4 * n_features,
    }
    for experiment in VIEWS:
        record = metrics(workdir, experiment)
        assert record["task"] == "regression" and record["primary_metric"]["name"] == "rmse"
        assert record["n_parameters"] == expected_params[experiment], experiment
        by_split = record["metrics"]["rmse_by_split"]
        assert set(by_split) == {"train", "validation", "test"}
        # a few epochs: clearly learning (tomorrow's sunshine spans 0-15 hours) but not yet good
        assert all(1.5 < v < 8.0 for v in by_split.values()), (experiment, by_split)
        assert record["beats_baseline"] == (by_split["test"] < record["baseline"]["rmse"])
        assert record["provenance"]["dataset_md5"] == {FULL: FULL_MD5}
        history = pd.read_csv(workdir / "results/weather" / experiment / "history.csv")
        assert record["epochs_run"] == len(history)
        if experiment in EARLY_STOPPING:
            assert len(history) == 2 and record["stopped_early"] is True, experiment
        else:
            assert len(history) == 3 and record["stopped_early"] is False, experiment
        predictions = pd.read_csv(workdir / "results/weather" / experiment / "predictions.csv")
        test = predictions[predictions["split"] == "test"]
        rmse = float(np.sqrt(np.mean((test["true"] - test["predicted"]) ** 2)))
        assert rmse == pytest.approx(by_split["test"], rel=1e-9)


def test_up_to_date_then_only_a_changed_view_reruns(weather_run):
    workdir, args, _ = weather_run
    assert planned_jobs(workdir, *args) == {}
    overlay = weather_overlay()
    overlay["datasets"]["weather"]["views"] = {"basel_9y": {"last_row": 365 * 8}}
    changed = write_config(workdir, "changed.yaml", overlay)
    changed_args = ("--configfile", str(changed), "--config", args[-1])
    weather_rules = [
        "prepare_weather_view",
        "split_weather",
        "train_tabular_tensorboard",
        "evaluate_regressor",
        "download",
    ]
    jobs = planned_jobs(workdir, *changed_args)
    assert {r: jobs.get(r, 0) for r in weather_rules} == {r: int(r != "download") for r in weather_rules}
    dry = snakemake(workdir, "--dry-run", *changed_args).stdout
    outputs = [line for line in dry.splitlines() if line.strip().startswith("output:")]
    assert any("results/weather/basel_9y/model.keras" in line for line in outputs)
    assert not any(f"results/weather/{e}/" in line for line in outputs for e in VIEWS if e != "basel_9y")


def test_training_is_deterministic_across_jobs(weather_run):
    # same data, model, seed and settings in two separate jobs: epochs before the early stop agree bit for bit
    workdir, _, _ = weather_run
    full = pd.read_csv(workdir / "results/weather/dense_100_50/history.csv")
    stopped = pd.read_csv(workdir / "results/weather/dense_100_50_earlystop/history.csv")
    pd.testing.assert_frame_equal(stopped, full.iloc[: len(stopped)], check_exact=True)


def test_weather_experiment_must_name_a_known_view(workflow_dir):
    overlay = write_config(workflow_dir, "bad.yaml", {"experiments": {"basel_9y": {"view": "basel_10y"}}})
    proc = snakemake(workflow_dir, "--dry-run", "--configfile", str(overlay), check=False)
    assert proc.returncode != 0
    assert "config key experiments.basel_9y.view: unknown view 'basel_10y'" in proc.stdout + proc.stderr
