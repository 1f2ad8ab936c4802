"""Reports and rebuilding exactly what changed (issue 9), on a tiny finished run of two datasets.

The workflow runs once (module scope) on penguins (both experiments) and the shared weather file
(one experiment), with few epochs; the tests then read the reports, build Snakemake's report,
and compare dry-run job summaries (`planned_jobs`) of changes, with real reruns where it matters.
Tests run in file order and each leaves the workflow up to date.
"""

import json
import re
import zipfile

import pandas as pd
import pytest
import yaml

from dlwf.core.fileio import md5sum
from dlwf.report import notebook as report
from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration

FULL = "weather_prediction_dataset.csv"
FULL_MD5 = "cb5c07c9d1307d41823a332d02e03bad"
PENGUINS = ["dense10", "dense10_normalized"]
WEATHER = "dense_10_5"
WEATHER_FILES = ["views/3y.csv", "split/3y/train.csv", f"{WEATHER}/metrics.json", f"{WEATHER}/model.keras"]


def tiny_overlay(shared_data) -> dict:
    """Only penguins and weather; two penguins experiments and one weather experiment, 3 epochs each."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    overlay = {"train_threads": 1,
               "datasets": {d: {"enabled": d in ("penguins", "weather")} for d in default["datasets"]}}
    overlay["datasets"]["weather"]["files"] = [
        {"name": FULL, "url": str(shared_data / "weather" / FULL), "md5": FULL_MD5}
    ]
    overlay["experiments"] = {e: {"enabled": False} for e in default["experiments"]}
    for experiment in PENGUINS + [WEATHER]:
        overlay["experiments"][experiment] = {"enabled": True, "training": {"epochs": 3}}
    return overlay


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_data):
    workdir = copy_workflow(tmp_path_factory.mktemp("reports") / "wf")
    args = ("--configfile", str(write_config(workdir, "tiny.yaml", tiny_overlay(shared_data))))
    snakemake(workdir, *args)
    return workdir, args, shared_data


def with_overlay(run, name, change) -> tuple[str, ...]:
    """Arguments for the tiny config with ``change(overlay)`` applied."""
    workdir, _, shared_data = run
    overlay = tiny_overlay(shared_data)
    change(overlay)
    return ("--configfile", str(write_config(workdir, name, overlay)))


def dry_run_outputs(workdir, *args) -> list[str]:
    """Every output file a dry run would (re)make."""
    text = snakemake(workdir, "--dry-run", *args).stdout
    return [f for line in text.splitlines() if line.strip().startswith("output:")
            for f in line.split(":", 1)[1].replace(",", " ").split()]


def mtimes(workdir, paths) -> dict:
    return {p: (workdir / p).stat().st_mtime_ns for p in paths}


def page_text(html: str) -> str:
    """The visible text of an HTML page."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_reports_tell_the_story_from_the_results(run):
    workdir, _, _ = run
    for dataset, experiments, figures in [("penguins", PENGUINS, 7), ("weather", [WEATHER], 5)]:
        html = (workdir / "reports" / f"{dataset}.html").read_text()
        notebook = json.loads((workdir / "reports" / f"{dataset}.ipynb").read_text())
        # executed by papermill with the dataset's files as parameters, without errors
        injected = [c for c in notebook["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert len(injected) == 1 and f'dataset = "{dataset}"' in "".join(injected[0]["source"])
        outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
        assert not [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"]
        # an offline page without code: no script or stylesheet from another site, no source lines
        assert report.external_resources(html) == []
        assert not re.search(r"<script[^>]*\bsrc=", html)
        assert "import matplotlib" not in html and "report.load_records" not in html
        assert html.count('src="data:image/png;base64,') >= figures, dataset
        text = page_text(html)
        for experiment in experiments:
            record = json.loads((workdir / "results" / dataset / experiment / "metrics.json").read_text())
            value = record["primary_metric"]["value"]
            assert f"{experiment}: " in text and f"{value:.3f}" in text, (dataset, experiment)
        assert "baseline" in text
    penguins = page_text((workdir / "reports/penguins.html").read_text())
    assert "The test set holds 69 penguins: Adelie 30, Chinstrap 14, Gentoo 25." in penguins
    weather = page_text((workdir / "reports/weather.html").read_text())
    assert "RMSE per split" in weather and "tomorrow is as sunny as today" in weather
    assert not (workdir / "reports/dollar_street.html").exists()  # disabled dataset: no report


def test_snakemake_report_builds_offline(run):
    workdir, args, _ = run
    snakemake(workdir, "--report", "report.html", *args)
    snakemake(workdir, "--report", "report.zip", *args)
    html = (workdir / "report.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc=[\"']?(https?:)?//", html)
    assert "Introduction to Deep Learning" in html  # report/workflow.rst
    for caption in ("Pair plot of the penguins", "Training curves of experiment", "Confusion matrix of experiment",
                    "Predicted against true next-day sunshine", "The dataset's report", "Every experiment of every"):
        assert caption in html, caption
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        files = sorted(name.rsplit("/", 1)[1] for name in archive.namelist() if name.startswith("report/data/raw/"))
    # every figure of the run (3 experiments), both dataset reports and the leaderboard
    assert files == sorted(["pairplot.png"] + ["training_curves.png"] * 3 + ["confusion_matrix.png"] * 2
                           + ["predicted_vs_true_train.png", "predicted_vs_true_test.png"]
                           + ["penguins.html", "weather.html", "leaderboard.html"])


def test_up_to_date_workflow_does_nothing(run):
    workdir, args, _ = run
    assert planned_jobs(workdir, *args) == {}


def test_changing_one_experiment_reruns_it_its_report_and_the_leaderboard(run):
    workdir, args, _ = run

    def more_epochs(overlay):
        overlay["experiments"]["dense10"]["training"]["epochs"] = 4

    changed = with_overlay(run, "epochs.yaml", more_epochs)
    assert planned_jobs(workdir, *changed) == {
        "train_tabular": 1, "evaluate_classifier": 1, "report_dataset": 1, "leaderboard": 1, "all": 1,
    }
    outputs = dry_run_outputs(workdir, *changed)
    assert "results/penguins/dense10/model.keras" in outputs and "reports/penguins.html" in outputs
    assert not [f for f in outputs if "dense10_normalized" in f or "weather" in f]


def test_editing_a_notebook_reruns_only_that_report(run):
    workdir, args, _ = run
    path = workdir / "notebooks" / "penguins.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"].append({"cell_type": "markdown", "id": "added", "metadata": {},
                              "source": ["A paragraph added to the penguins notebook."]})
    path.write_text(json.dumps(notebook, indent=1))
    assert planned_jobs(workdir, *args) == {"report_dataset": 1, "all": 1}
    assert dry_run_outputs(workdir, *args) == ["reports/penguins.html", "reports/penguins.ipynb"]
    unchanged = mtimes(workdir, ["reports/weather.html", "results/penguins/dense10/metrics.json"])
    snakemake(workdir, *args)
    assert "A paragraph added to the penguins notebook." in (workdir / "reports/penguins.html").read_text()
    assert mtimes(workdir, unchanged) == unchanged
    assert planned_jobs(workdir, *args) == {}


def test_new_raw_data_rerun_the_dataset_its_report_and_the_leaderboard_only(run):
    workdir, args, _ = run
    chain = {"prepare_table": 1, "split_table": 1, "plot_table_pairplot": 1, "train_tabular": 2,
             "evaluate_classifier": 2, "report_dataset": 1, "leaderboard": 1, "all": 1}

    # new data at the source: a changed checksum in the config fetches the file again
    def new_checksum(overlay):
        overlay["datasets"]["penguins"]["files"] = [{"name": "penguins.csv", "md5": "0" * 32,
                                                     "url": "package://palmerpenguins/data/penguins.csv"}]

    assert planned_jobs(workdir, *with_overlay(run, "md5.yaml", new_checksum)) == {
        "download": 1, **chain}

    # new content in the raw file itself: the penguins chain reruns, the weather files stay as they are
    raw = workdir / "resources/penguins/penguins.csv"
    lines = raw.read_text().splitlines(keepends=True)
    raw.write_text("".join(lines[:-44]))  # the last 44 rows are Chinstrap penguins
    assert planned_jobs(workdir, *args) == chain
    outputs = dry_run_outputs(workdir, *args)
    assert "reports/penguins.html" in outputs and not [f for f in outputs if "weather" in f]
    weather = mtimes(workdir, [f"results/weather/{f}" for f in WEATHER_FILES] + ["reports/weather.html"])
    snakemake(workdir, *args)
    assert mtimes(workdir, weather) == weather
    metrics = json.loads((workdir / "results/penguins/dense10/metrics.json").read_text())
    assert metrics["provenance"]["dataset_md5"] == {"penguins.csv": md5sum(raw)}
    board = pd.read_csv(workdir / "results/leaderboard.csv")
    assert set(board.loc[board["dataset"] == "penguins", "dataset_md5"]) == {f"penguins.csv:{md5sum(raw)}"}
    text = page_text((workdir / "reports/penguins.html").read_text())
    held_out = re.search(r"The test set holds (\d+) penguins", text)
    assert held_out and int(held_out.group(1)) < 69
    assert planned_jobs(workdir, *args) == {}
