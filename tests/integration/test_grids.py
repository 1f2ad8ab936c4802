"""Grids over any setting (issue 19) on the real penguins table: one run per point, grid.csv, reruns."""

import json

import pandas as pd
import pytest

from tests.integration.test_penguins_workflow import only_datasets
from tests.workflow import copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration

LESSON_ACCURACY = 0.2898550724637681  # dense10, seed 2, 100 epochs on this stack (episode 2)


def overlay(grid: dict) -> dict:
    config = only_datasets("penguins")
    config["experiments"] = {"dense10": {"grid": grid}, "dense10_normalized": {"enabled": False}}
    return config


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    """The lesson's penguins net as a 2-point grid over its seed (and the default learning rate)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("grid") / "wf")
    path = write_config(workdir, "grid.yaml", overlay({"seed": [2, 3], "training.learning_rate": [0.001]}))
    snakemake(workdir, "--configfile", str(path))
    return workdir


def test_every_point_is_a_run_of_its_own_and_grid_csv_lists_them(grid_run):
    d = grid_run / "results/penguins/dense10"
    grid = pd.read_csv(d / "grid.csv")
    assert grid["point"].tolist() == ["seed_2__learning_rate_0.001", "seed_3__learning_rate_0.001"]
    assert grid["seed"].tolist() == [2, 3] and grid["training.learning_rate"].tolist() == [0.001, 0.001]
    assert set(grid["metric"]) == {"accuracy"} and grid["baseline"].nunique() == 1  # the same test set
    assert grid["epochs_run"].tolist() == [100, 100] and grid["n_parameters"].tolist() == [83, 83]
    # the point with the lesson's settings is the lesson's net: its exact number
    assert grid.loc[0, "value"] == LESSON_ACCURACY
    assert 0.0 <= grid.loc[1, "value"] <= 1.0 and grid.loc[1, "value"] != LESSON_ACCURACY
    assert (d / "grid.png").stat().st_size > 10_000
    for point in grid["point"]:
        run = d / point
        assert {"model.keras", "history.csv", "metrics.json", "predictions.csv"} <= {p.name for p in run.iterdir()}
        record = json.loads((run / "metrics.json").read_text())
        assert record["experiment"] == f"dense10/{point}"
        assert record["primary_metric"]["value"] == grid.set_index("point").loc[point, "value"]
        assert len(pd.read_csv(run / "history.csv")) == 100
    page = (grid_run / "reports/penguins.html").read_text()
    assert "One run per point of a grid of settings" in page and "seed_3__learning_rate_0.001" in page
    board = pd.read_csv(grid_run / "results/leaderboard.csv")
    assert {"dense10/seed_2__learning_rate_0.001", "dense10/seed_3__learning_rate_0.001"} <= set(board["experiment"])


def test_adding_a_value_trains_the_new_point_only_and_reordering_keys_nothing(grid_run):
    wider = write_config(grid_run, "wider.yaml", overlay({"seed": [2, 3, 4], "training.learning_rate": [0.001]}))
    jobs = planned_jobs(grid_run, "--configfile", str(wider))
    assert jobs.get("train_tabular") == 1 and jobs.get("evaluate_classifier") == 1, jobs
    assert jobs.get("aggregate_grid") == 1, jobs
    assert not {"download", "prepare_table", "split_table"} & set(jobs), jobs
    reordered = write_config(grid_run, "reordered.yaml", overlay({"training.learning_rate": [0.001], "seed": [2, 3]}))
    jobs = planned_jobs(grid_run, "--configfile", str(reordered))
    assert not {"train_tabular", "evaluate_classifier", "aggregate_grid"} & set(jobs), jobs
