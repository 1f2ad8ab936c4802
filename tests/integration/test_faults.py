"""Issue 7, faults in real Snakemake runs (penguins only, a few epochs): a loss that becomes NaN, a
corrupt model file, a bad raw CSV, a job killed midway, and two experiments training at once.

Each case checks what a user sees: the exit status, the one-line error on the console and in the
rule's log, that no output of the failed job is left, and that upstream results are untouched.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.workflow import REPO, copy_workflow, planned_jobs, processes_in, snakemake, write_config

pytestmark = pytest.mark.integration

DENSE = {"builder": "dense", "args": {"hidden_units": [10], "output_activation": "softmax"}}
TRAINING = {"loss": "categorical_crossentropy", "metrics": ["accuracy"], "validation": "test"}
KILLED_EPOCHS = 40
SPLIT = ["results/penguins/split/train.csv", "results/penguins/split/test.csv", "results/penguins/split/columns.json"]


def overlay() -> dict:
    """Only penguins; the lesson's two experiments for 3 epochs with TensorBoard; two extra experiments."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return {
        "datasets": {d: {"enabled": d == "penguins"} for d in default["datasets"]},
        # 1 thread per job, so --cores 2 runs two training jobs at the same time
        "train_threads": 1,
        "experiments": {
            "dense10": {"training": {"epochs": 3, "tensorboard": True}},
            "dense10_normalized": {"training": {"epochs": 3, "tensorboard": True}},
            "diverges": {
                "dataset": "penguins",
                "seed": 2,
                "model": copy.deepcopy(DENSE),
                "training": {**TRAINING, "epochs": 5, "learning_rate": 1e20},
            },
            "killed": {
                "dataset": "penguins",
                "seed": 2,
                "model": copy.deepcopy(DENSE),
                "training": {**TRAINING, "epochs": KILLED_EPOCHS, "tensorboard": True},
            },
        },
    }


def run(workdir: Path, *targets: str, check: bool = False) -> tuple[int, str]:
    """Run Snakemake on ``targets`` with the test config; return (exit status, console text)."""
    proc = snakemake(workdir, *targets, "--configfile", str(workdir / "faults.yaml"), check=check)
    return proc.returncode, proc.stdout + proc.stderr


def mtimes(workdir: Path, paths) -> dict[str, int]:
    return {p: (workdir / p).stat().st_mtime_ns for p in paths}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A workflow copy with the penguins split made, then two experiments trained at once."""
    workdir = copy_workflow(tmp_path_factory.mktemp("faults") / "wf")
    write_config(workdir, "faults.yaml", overlay())
    run(workdir, *SPLIT, check=True)
    run(workdir, "results/penguins/dense10/model.keras", "results/penguins/dense10_normalized/model.keras", check=True)
    return workdir


# ------------------------------------------------------------------ two experiments training at once


def event_files(directory: Path) -> list[tuple[int, int]]:
    """(start time, pid) of the TensorBoard event files in ``directory``: events.out.tfevents.<time>.<host>.<pid>..."""
    found = []
    for path in directory.rglob("events.out.tfevents.*"):
        match = re.match(r"events\.out\.tfevents\.(\d+)\..+\.(\d+)\.\d+\.v2$", path.name)
        assert match, path.name
        found.append((int(match.group(1)), int(match.group(2))))
    return found


def test_two_experiments_trained_at_once_each_wrote_only_their_own_directory(workdir):
    runs = {}
    for experiment in ("dense10", "dense10_normalized"):
        exp_dir = workdir / "results/penguins" / experiment
        names = sorted(str(p.relative_to(exp_dir)) for p in exp_dir.rglob("*") if p.is_file())
        # nothing but the declared outputs: no stray temp file of an atomic write, no foreign events
        assert [n for n in names if not n.startswith("tensorboard/")] == [
            "history.csv",
            "model.keras",
            "outputs.npz",
            "train_environment.json",
        ], names
        events = event_files(exp_dir / "tensorboard")
        assert {n.split("/")[1] for n in names if n.startswith("tensorboard/") and "tfevents" in n} == {
            "train",
            "validation",
        }
        assert len({pid for _, pid in events}) == 1, f"{experiment}: events from several processes {events}"
        runs[experiment] = (min(t for t, _ in events), (exp_dir / "history.csv").stat().st_mtime, events[0][1])
    (start_a, end_a, pid_a), (start_b, end_b, pid_b) = runs.values()
    assert pid_a != pid_b
    assert start_a <= end_b and start_b <= end_a, f"the two jobs did not overlap: {runs}"
    assert not list((workdir / "results").rglob("*.part*"))


# ------------------------------------------------------------------ a loss that becomes NaN


def test_nan_loss_fails_the_job_keeps_no_model_and_leaves_the_split_alone(workdir):
    before = mtimes(workdir, SPLIT + ["results/penguins/prepared.csv"])
    code, console = run(workdir, "results/penguins/diverges/metrics.json")
    assert code != 0
    expected = (
        "ERROR in rule train_tabular: training loss became nan in epoch 1; training was stopped and no "
        "model was kept. Lower training.learning_rate"
    )
    assert expected in console
    assert expected in (workdir / "logs/penguins/diverges/train.log").read_text()
    exp_dir = workdir / "results/penguins/diverges"
    assert not exp_dir.exists() or not any(exp_dir.iterdir()), list(exp_dir.iterdir())
    assert mtimes(workdir, before) == before


# ------------------------------------------------------------------ a model file that is not a model


def test_corrupt_model_file_fails_evaluation_naming_it(workdir):
    exp_dir = workdir / "results/penguins/dense10_normalized"
    model = exp_dir / "model.keras"
    model.write_text("garbage\n")
    history_before = mtimes(workdir, ["results/penguins/dense10_normalized/history.csv"] + SPLIT)
    code, console = run(workdir, "results/penguins/dense10_normalized/metrics.json")
    assert code != 0
    assert (
        "ERROR in rule evaluate_classifier: results/penguins/dense10_normalized/model.keras: not the model that "
        "was trained"
    ) in console
    assert "delete it and run snakemake again" in console
    assert model.read_text() == "garbage\n"  # the input is left for the user to inspect
    assert mtimes(workdir, history_before) == history_before
    assert not (exp_dir / "metrics.json").exists() and not (exp_dir / "predictions.csv").exists()
    assert not (exp_dir / "confusion_matrix.csv").exists()


# ------------------------------------------------------------------ a training job killed midway


def test_killed_training_leaves_nothing_taken_as_done_and_reruns_cleanly(workdir):
    target = "results/penguins/killed/model.keras"
    train_log = workdir / "logs/penguins/killed/train.log"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with open(workdir / "killed_run.txt", "w") as console:
        proc = subprocess.Popen(
            [sys.executable, "-m", "snakemake", "--cores", "2", target, "--configfile", "faults.yaml"],
            cwd=workdir,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while not (train_log.exists() and "Epoch 2/" in train_log.read_text()):
            assert proc.poll() is None, (workdir / "killed_run.txt").read_text()
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.05)
        # what a scheduler's kill or a power cut does: Snakemake and its job die at once
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    for _ in range(50):  # the job process shares Snakemake's process group
        if not processes_in(workdir):
            break
        time.sleep(0.1)
    assert processes_in(workdir) == []
    assert f"Epoch {KILLED_EPOCHS}/" not in train_log.read_text(), "training finished before the kill"

    exp_dir = workdir / "results/penguins/killed"
    assert not (exp_dir / "model.keras").exists() and not (exp_dir / "history.csv").exists()
    assert (exp_dir / "tensorboard").is_dir()  # written during training: Snakemake must not take it as done
    code, console = run(workdir, "--dry-run", target)
    assert code != 0
    assert "IncompleteFilesException" in console and "results/penguins/killed/tensorboard" in console
    assert "--rerun-incomplete" in console
    # Snakemake itself was killed, so its lock remains; it says how to remove it
    code, console = run(workdir, "--rerun-incomplete", target)
    assert code != 0 and "--unlock" in console
    run(workdir, "--unlock", check=True)

    run(workdir, "--rerun-incomplete", target, check=True)
    history = pd.read_csv(exp_dir / "history.csv")
    assert list(history["epoch"]) == list(range(1, KILLED_EPOCHS + 1))
    with zipfile.ZipFile(exp_dir / "model.keras") as archive:
        assert "config.json" in archive.namelist()
    assert len({pid for _, pid in event_files(exp_dir / "tensorboard")}) == 1  # the killed run's events are gone
    assert not list(exp_dir.rglob("*.part*"))
    assert planned_jobs(workdir, target, "--configfile", str(workdir / "faults.yaml")) == {}


# ------------------------------------------------------------------ a bad raw file in resources/


def test_bad_raw_csv_fails_prepare_naming_the_file(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    write_config(workdir, "faults.yaml", overlay())
    raw = workdir / "resources/penguins/penguins.csv"
    raw.parent.mkdir(parents=True)
    raw.write_text("island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\nDream,39.1,18.7,181,3750\n")
    raw_md5 = md5(raw)
    code, console = run(workdir, "results/penguins/prepared.csv")
    assert code != 0
    assert (
        "ERROR in rule prepare_table: resources/penguins/penguins.csv: missing column(s) ['species']; "
        "the file has ['island', 'bill_length_mm'"
    ) in console
    assert "Traceback" not in console
    assert not (workdir / "results/penguins/prepared.csv").exists()
    assert md5(raw) == raw_md5
