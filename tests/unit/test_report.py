"""Per-dataset reports: the tables and figures the notebooks show, and the papermill + nbconvert run.

The render tests start a real Jupyter kernel (about 2 s each) on result files written here (no
training): every kind's notebook with payloads in every config and data string, the facts each
page states, the size figures are shown at, the kernel the notebooks run in, and the notebooks
refused before they run."""

import base64
import html
import io
import json
import re
import shutil
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import save_figure, write_csv, write_json
from dlwf.evaluate import record as records
from dlwf.plan.layout import NOTEBOOK_OF_KIND
from dlwf.report import notebook as report
from dlwf.report import page as pages
from tests.html_safety import DESCRIPTION, PAYLOADS, live_payloads
from tests.workflow import REPO

matplotlib.use("Agg")

TEMPLATE = REPO / "notebooks" / "templates" / "offline.html.j2"
CASES = REPO.parent / "shared" / "cases"


def record(name, metric, value, baseline, higher_is_better=True, md5="abc123def456"):
    return {
        "experiment": name,
        "description": f"{name} net",
        "epochs_run": 5,
        "n_parameters": 83,
        "primary_metric": {"name": metric, "value": value, "higher_is_better": higher_is_better},
        "baseline": {"name": "naive", metric: baseline},
        "beats_baseline": (value > baseline) == higher_is_better,
        "test_set": {"file": "test.csv", "md5": md5},
        "provenance": {"config": {"seed": 2}},
    }


def test_experiments_table_puts_each_metric_next_to_its_baseline_and_the_lessons_number():
    table = pages.experiments_table(
        {"a": record("a", "accuracy", 0.9, 0.4), "b": record("b", "rmse", 3.5, 3.2, higher_is_better=False)},
        {
            "a": {"lesson": {"metric": "accuracy", "value": 0.28, "where": "ep 4"}},
            "b": {"lesson": {"metric": "accuracy", "value": 0.5, "where": "another metric: not comparable"}},
        },
    )
    assert list(table["experiment"]) == ["a", "b"]
    assert list(table["baseline"]) == [0.4, 3.2]
    assert list(table["beats_baseline"]) == [True, False]
    assert table["lesson"].iloc[0] == 0.28 and pd.isna(table["lesson"].iloc[1])
    assert list(table["n_parameters"]) == [83, 83] and str(table["n_parameters"].dtype) == "Int64"
    assert list(table["test_set_md5"]) == ["abc123de", "abc123de"]


def test_comparison_figure_has_one_panel_per_metric_and_marks_baselines_and_lesson():
    table = pages.experiments_table(
        {
            "a": record("a", "accuracy", 0.9, 0.4),
            "b": record("b", "accuracy", 0.3, 0.4),
            "c": record("c", "rmse", 3.5, 3.9, higher_is_better=False),
        },
        {"a": {"lesson": {"metric": "accuracy", "value": 0.28, "where": "ep 4"}}},
    )
    fig = pages.comparison_figure(table)
    accuracy, rmse = fig.axes
    assert [p.get_width() for p in accuracy.patches] == [0.3, 0.9]  # drawn bottom-up
    assert [tuple(p.get_facecolor()[:3]) for p in accuracy.patches][1] == matplotlib.colors.to_rgb("tab:green")
    baselines, lesson = accuracy.collections
    assert list(baselines.get_offsets()[:, 0]) == [0.4, 0.4]
    assert list(lesson.get_offsets()[:, 0]) == [0.28] and list(lesson.get_offsets()[:, 1]) == [1]
    assert "rmse" in rmse.get_xlabel() and len(rmse.collections) == 1
    assert pages.comparison_figure(table.iloc[0:0]) is None


def test_curves_figure_prefers_validation_values(tmp_path):
    history = tmp_path / "history.csv"
    pd.DataFrame({"epoch": [1, 2], "accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.45]}).to_csv(history, index=False)
    fig = pages.curves_figure({"a": str(history)}, "accuracy")
    (line,) = fig.axes[0].lines
    assert list(line.get_ydata()) == [0.4, 0.45] and "val_accuracy" in line.get_label()
    assert pages.curves_figure({"a": str(history)}, "rmse") is None


def test_external_resources_finds_what_a_page_would_load():
    page = (
        '<script src="https://cdn.example/require.js"></script><link rel="stylesheet" href="//cdn.example/a.css">'
        '<img src="data:image/png;base64,AAAA"><a href="https://example.org">a link is fine</a>'
        "<script>var x = 'https://not.loaded';</script>"
    )
    assert report.external_resources(page) == ["https://cdn.example/require.js", "//cdn.example/a.css"]


def test_the_payload_finder_can_fail():
    """live_payloads finds each payload when it is pasted into a page unescaped."""
    for name, payload in PAYLOADS.items():
        if name == "python":
            continue
        page = f'<html><body><p>{payload}</p><a href="{payload.split("(", 1)[1][:-1]}">x</a></body></html>'
        if name == "markdown-link":
            page = "<a href=\"javascript:alert('xss-link')\">click me</a>"
        if name == "attribute":
            page = f'<p title="{payload}">x</p>'
        assert live_payloads(page), name
    assert not live_payloads(f'<p>{pages.escape(DESCRIPTION)}</p><p title="{pages.escape(DESCRIPTION)}"></p>')


def text(page: str) -> str:
    """The page without its tags (code is highlighted span by span)."""
    return re.sub(r"<[^>]+>", "", page)


def notebook(tmp_path, *sources, tagged=True):
    cells = [
        {
            "cell_type": "code",
            "id": "params",
            "metadata": {"tags": ["parameters"] if tagged else []},
            "execution_count": None,
            "outputs": [],
            "source": 'name = "default"',
        }
    ]
    cells += [
        {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [], "source": source}
        for i, source in enumerate(sources)
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(
        json.dumps(
            {
                "cells": cells,
                "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    return path


def test_render_injects_parameters_and_writes_an_offline_page_without_code(tmp_path):
    source = notebook(
        tmp_path, "from IPython.display import Markdown, display\ndisplay(Markdown(f'# Hello {name} $x^2$'))"
    )
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


def test_injected_text_arrives_exactly_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = notebook(tmp_path, "import json\nopen('seen.json', 'w').write(json.dumps(name))")
    report.render(source, tmp_path / "r.ipynb", tmp_path / "r.html", {"name": PAYLOADS["python"]}, TEMPLATE)
    assert json.loads((tmp_path / "seen.json").read_text()) == PAYLOADS["python"]
    assert not list(tmp_path.rglob("PWNED*"))


def test_a_failing_notebook_leaves_no_report(tmp_path):
    source = notebook(tmp_path, "raise ValueError('no metrics.json for ' + name)")
    executed, html = tmp_path / "r.ipynb", tmp_path / "r.html"
    with pytest.raises(Exception, match="no metrics.json for penguins"):
        report.render(source, executed, html, {"name": "penguins"}, TEMPLATE)
    assert not executed.exists() and not html.exists()
    assert not list(tmp_path.glob(".r.*"))  # no temporary files left behind


def test_a_notebook_without_a_tagged_parameters_cell_is_refused_naming_the_file(tmp_path):
    source = notebook(tmp_path, "print(name)", tagged=False)
    with pytest.raises(WorkflowInputError, match=rf"{re.escape(str(source))}: no cell is tagged 'parameters'"):
        report.render(source, tmp_path / "r.ipynb", tmp_path / "r.html", {"name": "penguins"}, TEMPLATE)
    assert not (tmp_path / "r.html").exists()
    # a real notebook whose tag was lost (as ../shared/cases/report-notebook-untagged-parameters does it)
    copy = tmp_path / "penguins.ipynb"
    shutil.copy(REPO / "notebooks" / "penguins.ipynb", copy)
    nb = json.loads(copy.read_text())
    for cell in nb["cells"]:
        cell["metadata"].pop("tags", None)
    copy.write_text(json.dumps(nb))
    with pytest.raises(WorkflowInputError, match="penguins.ipynb: no cell is tagged 'parameters'"):
        report.check_parameters_cell(copy, report.PARAMETERS)


def test_a_parameters_cell_must_set_every_parameter(tmp_path):
    source = notebook(tmp_path, "print(name)")
    with pytest.raises(WorkflowInputError, match=r"does not set \['other'\]"):
        report.check_parameters_cell(source, ["name", "other"])


def foreign_kernel(directory, name, python, marker):
    spec = directory / "kernels" / name
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "foreign",
                "language": "python",
                "env": {"FOREIGN_KERNEL": marker},
            }
        )
    )


def test_notebooks_run_in_the_workflows_own_python_whatever_is_on_the_jupyter_path(tmp_path, monkeypatch):
    """A site's `python3` kernel spec (or one named like ours) on JUPYTER_PATH is not used."""
    jupyter = tmp_path / "jupyter"
    foreign_kernel(jupyter, "python3", sys.executable, "python3")
    foreign_kernel(jupyter, report.KERNEL_NAME, sys.executable, "same name")
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(jupyter))
    monkeypatch.chdir(tmp_path)
    source = notebook(
        tmp_path,
        "import json, os, sys\n"
        "open('kernel.json', 'w').write(json.dumps([sys.executable, "
        "os.environ.get('FOREIGN_KERNEL')]))",
    )
    report.render(source, tmp_path / "r.ipynb", tmp_path / "r.html", {"name": "x"}, TEMPLATE)
    assert json.loads((tmp_path / "kernel.json").read_text()) == [sys.executable, None]


def test_the_cases_foreign_python3_kernel_does_not_break_a_report(tmp_path, monkeypatch):
    jupyter = CASES / "report-kernel-jupyter-path" / "jupyter_path"
    if not jupyter.is_dir():
        pytest.skip(f"{jupyter} not found")
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    source = notebook(tmp_path, "print('ran', name)")
    report.render(source, tmp_path / "r.ipynb", tmp_path / "r.html", {"name": "x"}, TEMPLATE)
    assert "ran x" in (tmp_path / "r.html").read_text()


# ------------------------------------------------------------------ every kind's notebook on results


KINDS = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())["$defs"]["dataset"]["properties"]["kind"]["enum"]
# the report notebooks: every kind's (NOTEBOOK_OF_KIND) and any other in notebooks/ (penguins)
NOTEBOOKS = sorted({NOTEBOOK_OF_KIND[kind] for kind in KINDS} | {p.stem for p in (REPO / "notebooks").glob("*.ipynb")})
SETTINGS = {
    "dataset": "d",
    "seed": 7,
    "model": {"builder": "dense", "args": {}},
    "training": {
        "epochs": 10,
        "early_stopping": {"monitor": "val_loss", "patience": 2, "min_delta": 0.0, "restore_best_weights": True},
    },
}
CLASSES = ["cat", PAYLOADS["img"], PAYLOADS["script"]]


def figure(path, inches=(10, 4.5)):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=inches)
    ax.plot([1, 2], [3, 4])
    save_figure(fig, path)


def classifier_record(name, history, classes=CLASSES, settings=SETTINGS):
    base = records.base_record(
        name,
        {**settings, "dataset": "d"},
        1234567,
        history,
        {"file": "test.csv", "md5": "f" * 32},
        {"data.csv": "e" * 32},
        {},
        samples={"train": 40, "test": 9},
    )
    probabilities = np.eye(len(classes))[[0, 1, 2, 0, 1, 2, 0, 0, 1]]
    result, _, confusion = records.classification(
        base, probabilities, np.array([0, 1, 2, 0, 1, 2, 0, 1, 1]), np.array([0, 0, 1]), classes
    )
    return result, confusion


def experiment_files(root, dataset, name, mode, kind):
    """Result files of one experiment as the workflow writes them; returns its report parameter."""
    d = root / "results" / dataset / name
    d.mkdir(parents=True)
    history = pd.DataFrame({"epoch": [1, 2, 3, 4], "loss": [1.0, 0.8, 0.7, 0.6], "val_loss": [1.1, 0.9, 0.95, 1.0]})
    if kind == "weather":
        history["rmse"], history["val_rmse"] = [3.0, 2.9, 2.8, 2.7], [3.1, 3.0, 3.05, 3.1]
    else:
        history["accuracy"], history["val_accuracy"] = [0.3, 0.4, 0.5, 0.6], [0.3, 0.35, 0.33, 0.3]
    write_csv(history, d / "history.csv")
    figure(d / "training_curves.png")
    files = {"history.csv": d / "history.csv", "training_curves.png": d / "training_curves.png"}
    if kind == "weather":
        predictions = pd.DataFrame(
            {
                "split": ["train", "validation", "test"] * 3,
                "true": np.arange(9.0),
                "predicted": np.arange(9.0) + 0.5,
                "baseline": np.arange(9.0) + 1,
            }
        )
        base = records.base_record(
            name,
            SETTINGS,
            961,
            history,
            {"file": "test.csv", "md5": "f" * 32},
            {"weather.csv": "e" * 32},
            {},
            samples={"train": 3, "validation": 3, "test": 3},
        )
        result = records.regression(base, predictions, "BASEL_sunshine", "today's value", "BASEL_sunshine")
        figure(d / "predicted_vs_true_test.png")
        files["predicted_vs_true_test.png"] = d / "predicted_vs_true_test.png"
    else:
        settings = SETTINGS
        if mode == "tuner":
            settings = {**SETTINGS, "tuner": {"objective": "val_loss"}}
        result, confusion = classifier_record(name, history, settings=settings)
        write_csv(confusion, d / "confusion_matrix.csv", index=True)
        figure(d / "confusion_matrix.png", (6, 5))
        files.update({name: d / name for name in ("confusion_matrix.csv", "confusion_matrix.png")})
        if mode == "tuner":
            write_csv(
                pd.DataFrame({"trial": ["0", "1", "2"], "score": [1.0, 0.9, 1.2], "note": [PAYLOADS["svg"], "b", "c"]}),
                d / "trials.csv",
            )
            files["trials.csv"] = d / "trials.csv"
        if mode == "sweep":
            write_csv(pd.DataFrame({"dropout": [0.2, 0.8], "val_loss": [0.9, 1.0]}), d / "sweep.csv")
            figure(d / "sweep_val_loss.png", (6, 4))
            files.update({"sweep.csv": d / "sweep.csv", "sweep_val_loss.png": d / "sweep_val_loss.png"})
            result["best"] = {"dropout": 0.2, "val_loss": 0.9, "val_accuracy": 0.5}
        if mode == "grid":
            write_csv(
                pd.DataFrame(
                    {
                        "point": ["a", "b"],
                        "model.args.dropout": [0.2, 0.8],
                        "metric": ["accuracy"] * 2,
                        "value": [0.5, 0.25],
                        "note": [PAYLOADS["svg"], "b"],
                    }
                ),
                d / "grid.csv",
            )
            figure(d / "grid.png", (6, 4))
            files.update({"grid.csv": d / "grid.csv", "grid.png": d / "grid.png"})
        if mode == "transfer":
            result["n_trainable_parameters"] = 53808
            result["base_model"] = {"name": "MobileNet", "pretrained": True}
    write_json(result, d / "metrics.json")
    files["metrics.json"] = d / "metrics.json"
    lesson = {"metric": result["primary_metric"]["name"], "value": 0.28, "where": PAYLOADS["attribute"]}
    return {
        "description": f"{name}: {DESCRIPTION}",
        "mode": mode,
        "view": "3y" if kind == "weather" else None,
        "repeat_of": None,
        "lesson": lesson,
        "files": {k: str(v.relative_to(root)) for k, v in files.items()},
    }


def results_of(root, kind):
    """The report parameters of a dataset of ``kind`` with one experiment per mode, payloads everywhere."""
    dataset = "d"
    modes = {
        "penguins": ["single"],
        "table": ["single", "grid"],
        "weather": ["single"],
        "images": ["single", "sweep", "tuner", "transfer"],
    }[kind]
    experiments = {f"e_{mode}": experiment_files(root, dataset, f"e_{mode}", mode, kind) for mode in modes}
    exploration = root / "results" / dataset / "exploration" / "figure.png"
    exploration.parent.mkdir(parents=True)
    figure(exploration, (8, 8))
    raw = root / "resources" / dataset
    raw.mkdir(parents=True)
    write_json(
        {"canonical_url": f"https://example.org/{PAYLOADS['script']}", "md5": "e" * 32, "bytes": 1000, "mirror": None},
        raw / "data.csv.provenance.json",
    )
    parameters = {
        "dataset": dataset,
        "episode": "",
        "description": DESCRIPTION,
        "exploration": [str(exploration.relative_to(root))],
        "views": {},
        "data": {},
        "sources": {"data.csv": "resources/d/data.csv.provenance.json"},
        "experiments": experiments,
    }
    if kind == "weather":
        view = root / "results" / dataset / "views" / "3y.csv"
        view.parent.mkdir(parents=True)
        days = {"DATE": [20000101, 20000102, 20000103], "BASEL_sunshine": [1.0, 2.0, 3.0]}
        pd.DataFrame(days).to_csv(view, index=False)
        parameters["views"] = {"3y": "results/d/views/3y.csv"}
    if kind == "images":
        classes = root / "results" / dataset / "prepared" / "classes.json"
        classes.parent.mkdir(parents=True)
        write_json(
            {
                "class_names": CLASSES,
                "n_classes": 3,
                "image_shape": [32, 32, 3],
                "class_counts": {"train": dict.fromkeys(CLASSES, 10), "test": dict.fromkeys(CLASSES, 3)},
            },
            classes,
        )
        parameters["data"] = {"classes": "results/d/prepared/classes.json"}
    return parameters


def images_on(page: str) -> list[tuple[int, bytes]]:
    """(shown width, PNG bytes) of every embedded PNG of a page."""
    shown = []
    for tag in re.findall(r"<img\b[^>]*>", page):
        data = re.search(r'src="data:image/png;base64,([^"]+)"', tag)
        if data:
            width = re.search(r'width="?(\d+)', tag)
            shown.append((int(width.group(1)) if width else 0, base64.b64decode(data.group(1))))
    return shown


@pytest.mark.parametrize("kind", NOTEBOOKS)
def test_every_notebook_shows_its_results_as_facts_and_config_text_as_text(kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = REPO / "notebooks" / f"{kind}.ipynb"
    cells = json.loads(path.read_text())["cells"]
    (parameters_cell,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    names = {}
    exec("".join(parameters_cell["source"]), names)  # noqa: S102
    assert set(names) - {"__builtins__"} == set(report.PARAMETERS)
    parameters = results_of(tmp_path, kind)
    report.render(path, tmp_path / "r.ipynb", tmp_path / "r.html", parameters, TEMPLATE)
    page = (tmp_path / "r.html").read_text()
    assert live_payloads(page) == []
    assert not list(tmp_path.rglob("PWNED*"))
    shown = html.unescape(re.sub(r"\s+", " ", text(page)))
    assert PAYLOADS["script"] in shown and PAYLOADS["img"] in shown  # shown as text
    # facts from the results
    assert "1,234,567 parameters" in shown or "961 parameters" in shown
    assert "trained for 4 epochs (early stopping ended it before the configured 10)" in shown
    assert "the evaluated model has the weights of epoch 2: the best val_loss (0.9)" in shown
    assert "resources/d/data.csv" in shown and "e" * 32 in shown
    assert "the lesson reports" in shown
    if kind == "images":
        assert "3 trials run" in shown and "2 values trained" in shown
        assert "keras-tuner keeps the best epoch" in shown and "53,808 of them trained" in shown
        assert "test images of 32x32x3 values" in shown
    if kind == "table":
        assert "Grids" in shown and "model.args.dropout" in shown and PAYLOADS["svg"] in shown
    # figures at the size they were drawn (10 pt text stays >= 12 px high), SVG for the live ones
    pictures = images_on(page)
    assert len(pictures) >= 3
    from PIL import Image

    for width, png in pictures:
        image = Image.open(io.BytesIO(png))
        assert image.info["dpi"][0] >= 199
        natural = image.width * pages.CSS_DPI / image.info["dpi"][0]
        assert width >= 0.75 * natural and width == min(round(natural), pages.MAX_WIDTH)
    assert page.count('src="data:image/svg+xml;base64,') >= 2  # comparison figure and curves


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_renders_a_dataset_without_experiments(name, tmp_path):
    empty = {
        "dataset": "empty",
        "episode": "",
        "description": "",
        "exploration": [],
        "views": {},
        "data": {},
        "sources": {},
        "experiments": {},
    }
    report.render(REPO / "notebooks" / f"{name}.ipynb", tmp_path / "e.ipynb", tmp_path / "e.html", empty, TEMPLATE)
    assert "empty:" in (tmp_path / "e.html").read_text()


def test_model_epoch_follows_keras_early_stopping_and_the_tuner():
    history = pd.DataFrame(
        {
            "epoch": [1, 2, 3, 4, 5],
            "loss": [1.0] * 5,
            "val_loss": [1.0, 0.7, 0.69, 0.8, 0.9],
            "val_accuracy": [0.1, 0.5, 0.4, 0.6, 0.2],
        }
    )
    plain = {"training": {"epochs": 5, "early_stopping": None}}
    assert records.model_epoch(history, plain)[0] == 5
    restore = {
        "training": {
            "epochs": 9,
            "early_stopping": {"monitor": "val_loss", "min_delta": 0.0, "restore_best_weights": True},
        }
    }
    assert records.model_epoch(history, restore)[0] == 3
    restore["training"]["early_stopping"]["min_delta"] = 0.05  # 0.69 is not better than 0.7 by 0.05
    assert records.model_epoch(history, restore)[0] == 2
    restore["training"]["early_stopping"].update(monitor="val_accuracy", min_delta=0.0)
    assert records.model_epoch(history, restore)[0] == 4
    kept_last = {"training": {"epochs": 9, "early_stopping": {"monitor": "val_loss", "restore_best_weights": False}}}
    assert records.model_epoch(history, kept_last) == (5, "the last epoch (the model is as training left it)")
    tuner = {"training": {"epochs": 5}, "tuner": {"objective": "val_loss"}}
    epoch, note = records.model_epoch(history, tuner)
    assert epoch == 3 and "keras-tuner" in note
