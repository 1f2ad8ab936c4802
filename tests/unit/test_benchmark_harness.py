"""The benchmark harness's pure parts: selection overlay and benchmark-file summaries."""

import pandas as pd

from tests.workflow import benchmark_harness

bench = benchmark_harness()


def test_selection_enables_only_the_chosen_datasets_and_experiments():
    overlay = bench.selection_overlay(["penguins"], ["dense10"])
    assert overlay["datasets"]["penguins"] == {"enabled": True}
    assert all(v == {"enabled": False} for k, v in overlay["datasets"].items() if k != "penguins")
    assert overlay["experiments"]["dense10"] == {"enabled": True}
    assert overlay["experiments"]["dense10_normalized"] == {"enabled": False}


def test_no_selection_keeps_the_configs_own_enabled_datasets():
    # cifar10 (a download) is disabled in config.yaml and must stay so for a whole-workflow benchmark
    assert bench.selection_overlay(None, None) == {"datasets": {}, "experiments": {}}


def test_peak_rss_groups_benchmark_files_by_step(tmp_path):
    for path, rss, seconds in [
        ("penguins/a/train.tsv", 600.0, 10.0),
        ("penguins/b/train.tsv", 700.0, 20.0),
        ("penguins/prepare.tsv", 150.0, 2.0),
    ]:
        file = tmp_path / "benchmarks" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"s": [seconds], "max_rss": [rss]}).to_csv(file, sep="\t", index=False)
    table = bench.peak_rss(tmp_path).set_index("step")
    assert table.loc["train", "jobs"] == 2 and table.loc["train", "max_rss_mb"] == 700.0
    assert table.loc["train", "mean_seconds"] == 15.0 and table.loc["prepare", "jobs"] == 1
