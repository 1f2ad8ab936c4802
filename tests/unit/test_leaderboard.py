"""The central results table: rows, baselines, ranking and comparison groups."""

import html
from xml.etree import ElementTree

import pandas as pd

from dlwf.core.fileio import write_json
from dlwf.report import leaderboard


def _record(experiment, value, test_md5="t" * 32, metric="accuracy", higher=True, baseline=0.4):
    return {
        "experiment": experiment,
        "dataset": "penguins",
        "description": f"{experiment} net",
        "primary_metric": {"name": metric, "value": value, "higher_is_better": higher},
        "baseline": {"name": "majority", metric: baseline},
        "beats_baseline": value > baseline,
        "epochs_run": 10,
        "n_parameters": 83,
        "test_set": {"file": "test.csv", "md5": test_md5},
        "provenance": {
            "dataset_md5": {"penguins.csv": "a" * 32},
            "config": {"model": {"builder": "dense"}, "seed": 2},
            "config_hash": "abc",
            "git_commit": "deadbeef",
        },
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


def _board(tmp_path, entries=None):
    paths = []
    for name, value in [("a", 0.5), ("b", 0.9)]:
        path = tmp_path / name / "metrics.json"
        write_json(_record(name, value), path)
        paths.append(str(path))
    return leaderboard.build(paths, experiments=entries)


def test_the_page_shows_config_text_as_text_only(tmp_path):
    from dlwf.report.notebook import external_resources
    from tests.html_safety import DESCRIPTION, PAYLOADS, live_payloads

    lesson = {"metric": "accuracy", "value": 0.28, "where": PAYLOADS["attribute"]}
    table = _board(tmp_path, {"a": {"description": DESCRIPTION, "lesson": lesson}, "b": {"description": "plain"}})
    missing = {"weather": {"files": [f"resources/weather/{PAYLOADS['img']}"], "experiments": ["x", "y"]}}
    page = leaderboard.to_html(table, missing)
    assert live_payloads(page) == []
    assert external_resources(page) == []
    assert html.escape(PAYLOADS["script"]) in page and "&lt;img src=x onerror" in page


def test_the_page_sorts_wraps_charts_and_lists_what_is_missing(tmp_path):
    lesson = {"metric": "accuracy", "value": 0.28, "where": "episode 4, line 1587"}
    table = _board(tmp_path, {"a": {"description": "a net", "lesson": lesson}})
    assert table.set_index("experiment").loc["a", "lesson"] == 0.28
    assert pd.isna(table.set_index("experiment").loc["b", "lesson"])
    page = leaderboard.to_html(table, {"weather": {"files": ["resources/weather/w.csv"], "experiments": ["d1", "d2"]}})
    assert page.count('<table class="sortable">') == 1 and 'addEventListener("click"' in page
    assert '<td class="text">a net</td>' in page and "td.text{" in page  # descriptions wrap
    assert page.count("<svg") == 1 and page.count('fill="#d62728"') == 1  # one lesson diamond
    svg = ElementTree.fromstring(leaderboard.chart_svg(table))  # well-formed, as browsers need inline SVG
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) == 2
    assert 'data-sort="0.9"' in page  # numbers sort as numbers
    assert "dataset weather: its data could not be fetched" in page and "d1, d2" in page
    assert 'title="episode 4, line 1587"' in page
    # a lesson number for another metric is not compared
    other = _board(tmp_path / "o", {"a": {"lesson": {**lesson, "metric": "rmse"}}})
    assert other["lesson"].isna().all()


def test_an_empty_leaderboard_says_so_and_lists_what_is_missing():
    page = leaderboard.to_html(leaderboard.build([]), {"weather": {"files": ["w.csv"], "experiments": []}})
    assert "No experiment has finished yet" in page and "Missing" in page
