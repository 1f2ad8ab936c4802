"""The central results table: rows, baselines, ranking and comparison groups."""

import pandas as pd

from dlwf.core.fileio import write_json
from dlwf.report import leaderboard


def _record(experiment, value, test_md5="t" * 32, metric="accuracy", higher=True, baseline=0.4):
    return {
        "experiment": experiment, "dataset": "penguins", "description": f"{experiment} net",
        "primary_metric": {"name": metric, "value": value, "higher_is_better": higher},
        "baseline": {"name": "majority", metric: baseline}, "beats_baseline": value > baseline,
        "epochs_run": 10, "n_parameters": 83, "test_set": {"file": "test.csv", "md5": test_md5},
        "provenance": {"dataset_md5": {"penguins.csv": "a" * 32}, "config": {"model": {"builder": "dense"}, "seed": 2},
                       "config_hash": "abc", "git_commit": "deadbeef"},
    }


def test_rows_are_ranked_and_grouped_by_test_set(tmp_path):
    paths = []
    for name, value, md5 in [("a", 0.5, "t" * 32), ("b", 0.9, "t" * 32), ("c", 0.99, "u" * 32)]:
        path = tmp_path / name / "metrics.json"
        write_json(_record(name, value, md5), path)
        paths.append(str(path))
    bench = tmp_path / "bench"
    bench.mkdir()
    pd.DataFrame({"s": [12.5], "max_rss": [100]}).to_csv(bench / "train.tsv", sep="\t", index=False)
    table = leaderboard.build(paths, [str(bench), None, None])
    assert len(table) == 3
    groups = table.groupby("comparison_group")["experiment"].apply(list).to_dict()
    assert sorted(groups.values(), key=len) == [["c"], ["b", "a"]]
    assert table.set_index("experiment").loc["a", "training_seconds"] == 12.5
    assert table.set_index("experiment").loc["a", "baseline"] == 0.4
    html = leaderboard.to_html(table)
    assert html.count("<table") == 2 and "not comparable" in html


def test_lower_is_better_metrics_rank_ascending(tmp_path):
    paths = []
    for name, value in [("big", 4.0), ("small", 3.0)]:
        path = tmp_path / name / "metrics.json"
        write_json(_record(name, value, metric="rmse", higher=False, baseline=3.9), path)
        paths.append(str(path))
    table = leaderboard.build(paths)
    assert list(table["experiment"]) == ["small", "big"]


def test_transfer_training_time_counts_feature_pass_and_head(tmp_path):
    record = _record("transfer", 0.66)
    record["timing"] = {"feature_pass_s": 20.0, "head_training_s": 30.0}
    write_json(record, tmp_path / "metrics.json")
    table = leaderboard.build([str(tmp_path / "metrics.json")])
    assert table.loc[0, "training_seconds"] == 50.0


def test_sweep_training_time_sums_every_point(tmp_path):
    for point, seconds in [("dropout_0.2", 10.0), ("dropout_0.4", 5.0)]:
        (tmp_path / point).mkdir()
        pd.DataFrame({"s": [seconds]}).to_csv(tmp_path / point / "train.tsv", sep="\t", index=False)
    pd.DataFrame({"s": [99.0]}).to_csv(tmp_path / "aggregate_sweep.tsv", sep="\t", index=False)
    assert leaderboard.training_seconds(tmp_path) == 15.0
