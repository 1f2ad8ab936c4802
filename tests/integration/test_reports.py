"""Reports and rebuilding exactly what changed (issues 9 and 16), on tiny finished runs.

The workflow runs once (module scope) on penguins (both experiments) and the shared weather file
(one experiment), with few epochs; the tests then read the reports, build Snakemake's report,
and compare dry-run job summaries (`planned_jobs`) of changes, with real reruns where it matters.
Tests run in file order and each leaves the workflow up to date. Two more runs reproduce the cases
of ../shared/cases: config text full of HTML and script payloads (with a foreign `python3` kernel
spec on JUPYTER_PATH, and a notebook that loses its parameters tag), and a run whose downloads fail.
"""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from html import unescape

import pandas as pd
import pytest
import yaml

from dlwf.core.fileio import md5sum
from dlwf.report import notebook as report
from tests.html_safety import PAYLOADS, live_payloads
from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration

FULL = "weather_prediction_dataset.csv"
FULL_MD5 = "cb5c07c9d1307d41823a332d02e03bad"
CASES = REPO.parent / "shared" / "cases"
PENGUINS = ["dense10", "dense10_normalized"]
WEATHER = "dense_10_5"
WEATHER_FILES = ["views/3y.csv", "split/3y/train.csv", f"{WEATHER}/metrics.json", f"{WEATHER}/model.keras"]


def tiny_overlay(shared_data) -> dict:
    """Only penguins and weather; two penguins experiments and one weather experiment, 3 epochs each."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    overlay = {
        "train_threads": 1,
        "datasets": {d: {"enabled": d in ("penguins", "weather")} for d in default["datasets"]},
    }
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
    return [
        f
        for line in text.splitlines()
        if line.strip().startswith("output:")
        for f in line.split(":", 1)[1].replace(",", " ").split()
        if not f.startswith("(")
    ]  # (update)


def mtimes(workdir, paths) -> dict:
    return {p: (workdir / p).stat().st_mtime_ns for p in paths}


def page_text(html: str) -> str:
    """The visible text of an HTML page."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_reports_tell_the_story_from_the_results(run):
    workdir, _, _ = run
    for dataset, experiments, figures in [("penguins", PENGUINS, 7), ("weather", [WEATHER], 5)]:
        page = (workdir / "reports" / f"{dataset}.html").read_text()
        notebook = json.loads((workdir / "reports" / f"{dataset}.ipynb").read_text())
        # executed by papermill with the dataset's files as parameters, without errors
        injected = [c for c in notebook["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert len(injected) == 1 and f'dataset = "{dataset}"' in "".join(injected[0]["source"])
        outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
        assert not [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"]
        # an offline page without code: no script or stylesheet from another site, no source lines
        assert report.external_resources(page) == []
        assert not re.search(r"<script[^>]*\bsrc=", page)
        assert "import matplotlib" not in page and "report.load_records" not in page
        assert page.count('src="data:image/png;base64,') + page.count('src="data:image/svg+xml;base64,') >= figures
        assert live_payloads(page) == []
        text = page_text(page)
        for experiment in experiments:
            record = json.loads((workdir / "results" / dataset / experiment / "metrics.json").read_text())
            value = record["primary_metric"]["value"]
            assert f"{experiment}: " in text and f"{value:.3f}" in text, (dataset, experiment)
            # facts from the results, not from the config
            assert f"{record['n_parameters']:,} parameters" in text and "trained for 3 epochs" in text
            assert record["model_epoch"] == 3 and "the evaluated model has the weights of epoch 3" in text
            assert f"{record['samples']['train']:,} training" in text
        assert "baseline" in text
        provenance = next((workdir / "resources" / dataset).glob("*.provenance.json"))
        assert json.loads(provenance.read_text())["md5"] in text  # the data file used and its md5
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
    assert live_payloads(html) == []
    for caption in (
        "Pair plot of the penguins",
        "Training curves of experiment",
        "Confusion matrix of experiment",
        "Predicted against true next-day sunshine",
        "The dataset's report",
        "Every finished experiment",
    ):
        assert caption in html, caption
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        files = sorted(name.rsplit("/", 1)[1] for name in archive.namelist() if name.startswith("report/data/raw/"))
    # every figure of the run (3 experiments), both dataset reports and the leaderboard
    assert files == sorted(
        ["pairplot.png"]
        + ["training_curves.png"] * 3
        + ["confusion_matrix.png"] * 2
        + ["predicted_vs_true_train.png", "predicted_vs_true_test.png"]
        + ["penguins.html", "weather.html", "leaderboard.html"]
    )


def test_up_to_date_workflow_does_nothing(run):
    workdir, args, _ = run
    assert planned_jobs(workdir, *args) == {}


def test_changing_one_experiment_reruns_it_its_report_and_the_leaderboard(run):
    workdir, args, _ = run

    def more_epochs(overlay):
        overlay["experiments"]["dense10"]["training"]["epochs"] = 4

    changed = with_overlay(run, "epochs.yaml", more_epochs)
    assert planned_jobs(workdir, *changed) == {
        "train_tabular": 1,
        "evaluate_classifier": 1,
        "report_dataset": 1,
        "leaderboard": 1,
        "all": 1,
    }
    outputs = dry_run_outputs(workdir, *changed)
    assert "results/penguins/dense10/model.keras" in outputs and "reports/penguins.html" in outputs
    assert not [f for f in outputs if "dense10_normalized" in f or "weather" in f]


def test_editing_a_notebook_reruns_only_that_report(run):
    workdir, args, _ = run
    path = workdir / "notebooks" / "penguins.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"].append(
        {
            "cell_type": "markdown",
            "id": "added",
            "metadata": {},
            "source": ["A paragraph added to the penguins notebook."],
        }
    )
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
    chain = {
        "prepare_table": 1,
        "split_table": 1,
        "plot_table_pairplot": 1,
        "train_tabular": 2,
        "evaluate_classifier": 2,
        "report_dataset": 1,
        "leaderboard": 1,
        "all": 1,
    }

    # new data at the source: a changed checksum in the config fetches the file again
    def new_checksum(overlay):
        overlay["datasets"]["penguins"]["files"] = [
            {"name": "penguins.csv", "md5": "0" * 32, "url": "package://palmerpenguins/data/penguins.csv"}
        ]

    assert planned_jobs(workdir, *with_overlay(run, "md5.yaml", new_checksum)) == {"download": 1, **chain}

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


# ------------------------------------------------------------------ config text full of payloads


def payload_overlay() -> dict:
    """The case security-html-in-description, with a payload of every kind in every description."""
    overlay = yaml.safe_load((CASES / "security-html-in-description" / "overlay.yaml").read_text())
    overlay["train_threads"] = 1
    overlay["datasets"]["penguins"]["description"] += " " + " ".join(PAYLOADS.values())
    overlay["experiments"]["dense10"]["description"] += " " + PAYLOADS["script-breakout"] + PAYLOADS["attribute"]
    return overlay


@pytest.fixture(scope="module")
def payloads(tmp_path_factory, monkeypatch_module):
    if not (CASES / "security-html-in-description").is_dir():
        pytest.skip(f"{CASES} not found")
    # the case report-kernel-jupyter-path: a site's `python3` kernel spec that runs another interpreter
    monkeypatch_module.setenv("JUPYTER_PATH", str(CASES / "report-kernel-jupyter-path" / "jupyter_path"))
    workdir = copy_workflow(tmp_path_factory.mktemp("payloads") / "wf")
    args = ("--configfile", str(write_config(workdir, "payloads.yaml", payload_overlay())))
    snakemake(workdir, *args, "--", "all", "episode2")
    return workdir, args


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_config_text_reaches_every_page_as_text_only(payloads):
    workdir, args = payloads
    snakemake(workdir, "--report", "report.html", *args)
    pages = ["reports/penguins.html", "reports/episode2.html", "results/leaderboard.html", "report.html"]
    for page in pages:
        text = (workdir / page).read_text()
        assert live_payloads(text) == [], page
        assert "xss-dense10" in text, page  # the description is there, as text
    for page in pages[:3]:
        shown = unescape(page_text((workdir / page).read_text()))
        assert '<script>alert("xss-dense10")</script>' in shown, page
    penguins = unescape(page_text((workdir / "reports/penguins.html").read_text()))
    assert '<img src=x onerror="alert(document.cookie)">dataset description' in penguins
    assert "[click me](javascript:alert(1))" in penguins
    assert not list(workdir.rglob("PWNED*"))  # the description injected into the notebook ran nothing
    csv = pd.read_csv(workdir / "results/leaderboard.csv").set_index("experiment")
    assert csv.loc["dense10", "description"].startswith('<script>alert("xss-dense10")</script>')  # the CSV keeps it


def test_reports_run_in_the_workflows_python_whatever_kernel_is_on_the_jupyter_path(payloads):
    workdir, _ = payloads
    from jupyter_client.kernelspec import KernelSpecManager

    # the run saw the case's spec: `python3` would have been /usr/bin/python3, which has no ipykernel here
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == "/usr/bin/python3"
    notebook = json.loads((workdir / "reports/penguins.ipynb").read_text())
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert outputs and not [o for o in outputs if o["output_type"] == "error"]
    assert "Kernel died" not in (workdir / "logs/penguins/report.log").read_text()


def test_a_notebook_without_its_parameters_tag_is_refused_and_the_previous_page_kept(payloads):
    workdir, args = payloads
    page = workdir / "reports/penguins.html"
    before = page.read_text()
    notebook = workdir / "notebooks/penguins.ipynb"
    original = notebook.read_text()
    strip = CASES / "report-notebook-untagged-parameters" / "strip_parameters_tag.py"
    subprocess.run([sys.executable, str(strip), str(notebook)], check=True, capture_output=True)
    try:
        proc = snakemake(workdir, *args, check=False)
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert "notebooks/penguins.ipynb: no cell is tagged 'parameters'" in output
        assert page.read_text() == before  # the previous page, restored by Snakemake
        assert not (workdir / "reports/penguins.ipynb").exists()  # so the next run tries again
        assert planned_jobs(workdir, *args) == {"report_dataset": 1, "all": 1}
    finally:
        notebook.write_text(original)
    snakemake(workdir, *args)
    assert (workdir / "reports/penguins.ipynb").exists() and planned_jobs(workdir, *args) == {}


# ------------------------------------------------------------------ after a run whose downloads fail


def partial_overlay() -> dict:
    """The case report-after-partial-run (weather and dollar_street enabled, penguins at 3 epochs), with
    every remote file at an address that refuses connections (offline, fast) and one weather experiment."""
    overlay = yaml.safe_load((CASES / "report-after-partial-run" / "penguins_3_epochs.yaml").read_text())
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    overlay["train_threads"] = 1
    overlay["download"] = {"attempts": 1, "backoff": 0.0, "timeout": 5}
    overlay["datasets"] = {
        name: {"files": [{**f, "url": f"https://127.0.0.1:9/{f['name']}"} for f in default["datasets"][name]["files"]]}
        for name in ("weather", "dollar_street")
    }
    for name, spec in default["experiments"].items():
        if spec["dataset"] == "weather":
            overlay["experiments"][name] = {"enabled": name == WEATHER, "training": {"epochs": 2}}
    return overlay


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    if not (CASES / "report-after-partial-run").is_dir():
        pytest.skip(f"{CASES} not found")
    workdir = copy_workflow(tmp_path_factory.mktemp("partial") / "wf")
    args = ("--keep-going", "--configfile", str(write_config(workdir, "partial.yaml", partial_overlay())))
    first = snakemake(workdir, *args, check=False)
    return workdir, args, first


def test_a_failed_download_is_recorded_and_the_next_run_builds_the_leaderboard(partial):
    workdir, args, first = partial
    assert first.returncode != 0
    assert "run snakemake again (make run does)" in first.stderr
    assert (workdir / "reports/penguins.html").exists()  # everything that did not need the data
    assert not (workdir / "results/leaderboard.html").exists()
    assert (workdir / "resources/weather/weather_prediction_dataset_light.csv.failed.json").exists()
    # the second run (make run's second pass): the downloads fail again, the leaderboard is built
    second = snakemake(workdir, *args, check=False)
    assert second.returncode != 0
    board = (workdir / "results/leaderboard.html").read_text()
    text = page_text(board)
    assert "Missing" in text and "dataset weather: its data could not be fetched" in text
    assert "dataset dollar_street" in text and "cnn_pool" in text and WEATHER in text
    assert set(pd.read_csv(workdir / "results/leaderboard.csv")["dataset"]) == {"penguins"}
    assert planned_jobs(workdir, *args) == {"download": 5, "all": 1}  # only the downloads are tried again


def test_snakemake_report_after_a_partial_run(partial):
    workdir, args, _ = partial
    snakemake(workdir, "--report", "report.zip", *args[1:])
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        files = sorted(name.rsplit("/", 1)[1] for name in archive.namelist() if name.startswith("report/data/raw/"))
    assert "leaderboard.html" in files and "penguins.html" in files and "weather.html" not in files


def test_data_that_arrive_later_join_the_leaderboard(partial, shared_data, tmp_path):
    workdir, args, _ = partial
    mirror = tmp_path / "mirror" / "weather"
    mirror.mkdir(parents=True)
    shutil.copy(shared_data / "weather" / FULL, mirror / "weather_prediction_dataset_light.csv")
    with_mirror = (*args, "--config", f"mirror={tmp_path / 'mirror'}")
    arrived = snakemake(workdir, *with_mirror, check=False)
    assert "The data of weather arrived in this run" in arrived.stderr
    assert not (workdir / "resources/weather/weather_prediction_dataset_light.csv.failed.json").exists()
    snakemake(workdir, *with_mirror, check=False)  # dollar_street still cannot be fetched
    board = pd.read_csv(workdir / "results/leaderboard.csv")
    assert set(board["dataset"]) == {"penguins", "weather"}
    text = page_text((workdir / "results/leaderboard.html").read_text())
    assert "dataset dollar_street" in text and "dataset weather:" not in text
    assert (workdir / "reports/weather.html").exists()
