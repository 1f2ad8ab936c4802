"""Per-dataset reports: the tables and figures the notebooks show, and the papermill + nbconvert run.

The render tests start a real Jupyter kernel (about 2 s each); no workflow runs here."""

import json
import re

import matplotlib
import pandas as pd
import pytest
import yaml

from dlwf.plan.layout import NOTEBOOK_OF_KIND
from dlwf.report import notebook as report
from tests.workflow import REPO

matplotlib.use("Agg")

TEMPLATE = REPO / "notebooks" / "templates" / "offline.html.j2"
PARAMETERS = {"dataset", "description", "exploration", "views", "data", "experiments"}


def record(name, metric, value, baseline, higher_is_better=True, md5="abc123def456"):
    return {
        "experiment": name, "description": f"{name} net", "epochs_run": 5, "n_parameters": 83,
        "primary_metric": {"name": metric, "value": value, "higher_is_better": higher_is_better},
        "baseline": {"name": "naive", metric: baseline},
        "beats_baseline": (value > baseline) == higher_is_better,
        "test_set": {"file": "test.csv", "md5": md5},
        "provenance": {"config": {"seed": 2}},
    }


def test_experiments_table_puts_each_metric_next_to_its_baseline():
    table = report.experiments_table({
        "a": record("a", "accuracy", 0.9, 0.4),
        "b": record("b", "rmse", 3.5, 3.2, higher_is_better=False),
    })
    assert list(table["experiment"]) == ["a", "b"]
    assert list(table["baseline"]) == [0.4, 3.2]
    assert list(table["beats_baseline"]) == [True, False]
    assert list(table["n_parameters"]) == [83, 83] and str(table["n_parameters"].dtype) == "Int64"
    assert list(table["test_set_md5"]) == ["abc123de", "abc123de"]


def test_comparison_figure_has_one_panel_per_metric_and_marks_baselines():
    table = report.experiments_table({
        "a": record("a", "accuracy", 0.9, 0.4),
        "b": record("b", "accuracy", 0.3, 0.4),
        "c": record("c", "rmse", 3.5, 3.9, higher_is_better=False),
    })
    fig = report.comparison_figure(table)
    accuracy, rmse = fig.axes
    assert [p.get_width() for p in accuracy.patches] == [0.3, 0.9]  # drawn bottom-up
    assert [tuple(p.get_facecolor()[:3]) for p in accuracy.patches][1] == matplotlib.colors.to_rgb("tab:green")
    assert list(accuracy.collections[0].get_offsets()[:, 0]) == [0.4, 0.4]
    assert "rmse" in rmse.get_xlabel()
    assert report.comparison_figure(table.iloc[0:0]) is None


def test_curves_figure_prefers_validation_values(tmp_path):
    history = tmp_path / "history.csv"
    pd.DataFrame({"epoch": [1, 2], "accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.45]}).to_csv(history, index=False)
    fig = report.curves_figure({"a": str(history)}, "accuracy")
    (line,) = fig.axes[0].lines
    assert list(line.get_ydata()) == [0.4, 0.45] and "val_accuracy" in line.get_label()
    assert report.curves_figure({"a": str(history)}, "rmse") is None


def test_external_resources_finds_what_a_page_would_load():
    page = ('<script src="https://cdn.example/require.js"></script><link rel="stylesheet" href="//cdn.example/a.css">'
            '<img src="data:image/png;base64,AAAA"><a href="https://example.org">a link is fine</a>'
            "<script>var x = 'https://not.loaded';</script>")
    assert report.external_resources(page) == ["https://cdn.example/require.js", "//cdn.example/a.css"]


def text(page: str) -> str:
    """The page without its tags (code is highlighted span by span)."""
    return re.sub(r"<[^>]+>", "", page)


def notebook(tmp_path, *sources):
    cells = [{"cell_type": "code", "id": "params", "metadata": {"tags": ["parameters"]}, "execution_count": None,
              "outputs": [], "source": 'name = "default"'}]
    cells += [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
               "source": source} for i, source in enumerate(sources)]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                                            "display_name": "Python 3"}},
                                "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_render_injects_parameters_and_writes_an_offline_page_without_code(tmp_path):
    source = notebook(tmp_path, "from IPython.display import Markdown, display\n"
                                "display(Markdown(f'# Hello {name} $x^2$'))")
    executed, html = tmp_path / "out" / "r.ipynb", tmp_path / "out" / "r.html"
    report.render(source, executed, html, {"name": "penguins"}, TEMPLATE)
    page = html.read_text()
    assert "Hello penguins" in page
    assert "display(Markdown" not in text(page)  # no code cells
    assert report.external_resources(page) == [] and "<script src=" not in page  # no CDN MathJax / require.js
    cells = json.loads(executed.read_text())["cells"]
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in cells)
    # config report_code: true keeps the code
    report.render(source, executed, html, {"name": "penguins"}, TEMPLATE, show_code=True)
    assert "display(Markdown" in text(html.read_text()) and report.external_resources(html.read_text()) == []


def test_a_failing_notebook_leaves_no_report(tmp_path):
    source = notebook(tmp_path, "raise ValueError('no metrics.json for ' + name)")
    executed, html = tmp_path / "r.ipynb", tmp_path / "r.html"
    with pytest.raises(Exception, match="no metrics.json for penguins"):
        report.render(source, executed, html, {"name": "penguins"}, TEMPLATE)
    assert not executed.exists() and not html.exists()
    assert not list(tmp_path.glob(".r.*"))  # no temporary files left behind


KINDS = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())["$defs"]["dataset"]["properties"]["kind"]["enum"]
NOTEBOOKS = sorted({NOTEBOOK_OF_KIND[kind] for kind in KINDS} | {p.stem for p in (REPO / "notebooks").glob("*.ipynb")})


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_kind_has_a_notebook_that_runs_on_a_dataset_without_experiments(name, tmp_path):
    path = REPO / "notebooks" / f"{name}.ipynb"
    cells = json.loads(path.read_text())["cells"]
    (parameters,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    names = {}
    exec("".join(parameters["source"]), names)
    assert set(names) - {"__builtins__"} == PARAMETERS
    empty = {"dataset": "empty", "description": "", "exploration": [], "views": {}, "data": {}, "experiments": {}}
    report.render(path, tmp_path / "empty.ipynb", tmp_path / "empty.html", empty, TEMPLATE)
    assert "empty:" in (tmp_path / "empty.html").read_text()
