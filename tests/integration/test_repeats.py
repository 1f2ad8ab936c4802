"""Multi-seed repeats: K independent jobs and a summary of their spread."""

import json

import pandas as pd
import pytest

from tests.integration.test_penguins_workflow import only_datasets
from tests.workflow import copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration


def test_repeats_train_one_job_per_seed_and_summarise(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    overlay = only_datasets("penguins")
    overlay["experiments"] = {
        "dense10": {"repeats": 3, "training": {"epochs": 3}},
        "dense10_normalized": {"enabled": False},
    }
    path = write_config(workdir, "repeats.yaml", overlay)
    jobs = planned_jobs(workdir, "--configfile", str(path))
    assert jobs["train_tabular"] == 3 and jobs["aggregate_repeats"] == 1
    snakemake(workdir, "--configfile", str(path))
    summary = json.loads((workdir / "results/penguins/dense10/repeats.json").read_text())
    assert summary["seeds"] == [2, 3, 4] and summary["n"] == 3
    assert summary["value_min"] <= summary["value_mean"] <= summary["value_max"]
    per_seed = pd.read_csv(workdir / "results/penguins/dense10/repeats.csv")
    assert list(per_seed["experiment"]) == ["dense10", "dense10_seed3", "dense10_seed4"]
    board = pd.read_csv(workdir / "results/leaderboard.csv")
    assert sorted(board["seed"]) == [2, 3, 4]
    assert set(board["repeat_of"]) == {"dense10"}
