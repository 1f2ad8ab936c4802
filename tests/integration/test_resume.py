"""Issue 17, long runs survive and can be watched: real Snakemake jobs killed mid-training (SIGKILL to
Snakemake and its job, as a scheduler's kill or a power cut does), then run again.

Penguins: a training job killed after about 100 of its 300 epochs resumes after its last backed-up
epoch; a backup of other settings or other code is discarded instead. Images (a slice of the
shared CIFAR-10 subset): a keras-tuner search killed in its second trial resumes without running
the first again; TensorBoard logs of every kind of experiment open with one
`tensorboard --logdir results/<dataset>`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.workflow import REPO, copy_workflow, planned_jobs, processes_in, snakemake, write_config

pytestmark = pytest.mark.integration

EPOCHS = 300
KILL_AFTER = 100  # the job is killed once its log shows this epoch starting
DENSE = {"builder": "dense", "args": {"hidden_units": [10], "output_activation": "softmax"}}
LONG = {
    "dataset": "penguins",
    "seed": 2,
    "model": DENSE,
    "training": {
        "epochs": EPOCHS,
        "loss": "categorical_crossentropy",
        "metrics": ["accuracy"],
        "validation": "test",
        "tensorboard": True,
    },
}
TF_NOISE = ("WARNING: All log messages before absl", "I0000 ", "To enable the following instructions", "W0000 ")


def penguins_overlay() -> dict:
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return {
        "datasets": {d: {"enabled": d == "penguins"} for d in default["datasets"]},
        "resume": {"every_seconds": 0},  # a backup every epoch: the resumed epoch is the last one logged
        "experiments": {name: copy.deepcopy(LONG) for name in ("reference", "killed", "changed", "coded")},
    }


def run(workdir: Path, *args: str, check: bool = True, configfile: str = "resume.yaml") -> subprocess.CompletedProcess:
    return snakemake(workdir, *args, "--configfile", configfile, check=check)


def first_line(log: Path) -> str:
    """The first line of a job's log that is not TensorFlow's own start-up chatter."""
    return next(line for line in log.read_text().splitlines() if line.strip() and not line.startswith(TF_NOISE))


def kill_when(workdir: Path, target: str, log: Path, ready, configfile: str = "resume.yaml") -> None:
    """Start Snakemake on ``target``; once ``ready(log text)``, SIGKILL it and its job at once."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with open(workdir / "killed_run.txt", "w") as console:
        proc = subprocess.Popen(
            [sys.executable, "-m", "snakemake", "--cores", "2", target, "--configfile", configfile],
            cwd=workdir,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 600
        while not (log.exists() and ready(log.read_text())):
            assert proc.poll() is None, (workdir / "killed_run.txt").read_text()[-5000:]
            assert time.monotonic() < deadline, "the job did not get far enough"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    for _ in range(100):
        if not processes_in(workdir):
            break
        time.sleep(0.1)
    assert processes_in(workdir) == []
    run(workdir, "--unlock")  # Snakemake itself was killed: its lock remains


def epoch_started(n: int):
    return lambda text: f"Epoch {n}/" in text


def tensorboard_steps(log_dir: Path) -> dict[str, list[int]]:
    """The epochs (0-based steps) of 'epoch_loss' TensorBoard shows for the train and validation runs."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    steps = {}
    for run_name in ("train", "validation"):
        events = EventAccumulator(str(log_dir / run_name), size_guidance={"tensors": 0})
        events.Reload()
        steps[run_name] = sorted(e.step for e in events.Tensors("epoch_loss"))
    return steps


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("resume") / "wf")
    write_config(workdir, "resume.yaml", penguins_overlay())
    run(workdir, "results/penguins/reference/metrics.json")  # uninterrupted, for comparison
    return workdir


def test_a_killed_training_job_resumes_after_its_last_backed_up_epoch(penguins):
    workdir = penguins
    exp = workdir / "results/penguins/killed"
    log = workdir / "logs/penguins/killed/train.log"
    kill_when(workdir, "results/penguins/killed/metrics.json", log, epoch_started(KILL_AFTER))
    state = json.loads((exp / ".backup" / "state.json").read_text())
    done = state["epochs_done"]
    assert KILL_AFTER - 1 <= done < EPOCHS and not state["finished"]
    assert not (exp / "model.keras").exists() and not (exp / "history.csv").exists()

    proc = run(workdir, "--rerun-incomplete", "results/penguins/killed/metrics.json")
    assert "train_tabular_tensorboard" in proc.stdout + proc.stderr
    # the log says what is trained, and that it resumed, and from where
    assert first_line(log).startswith(
        "TRAINING penguins/killed: inputs (273, 4) -> targets (273, 3), validation "
        "(69, 4); dense_net, 83 parameters (83 trainable); 300 epochs, batch 32, adam;"
    )
    assert f"resuming after epoch {done} from the backup; backup results/penguins/killed/.backup" in first_line(log)
    text = log.read_text()
    assert (
        f"resumed from the backup in results/penguins/killed/.backup: epochs 1-{done} were done before the job "
        f"was interrupted; training goes on with epoch {done + 1} of {EPOCHS}"
    ) in text
    assert f"Epoch {done}/" not in text and f"Epoch {done + 1}/" in text

    # history.csv has every epoch once; those before the kill are the interrupted run's, exactly
    history = pd.read_csv(exp / "history.csv")
    reference = pd.read_csv(workdir / "results/penguins/reference/history.csv")
    assert list(history["epoch"]) == list(range(1, EPOCHS + 1))
    pd.testing.assert_frame_equal(history.iloc[:done], reference.iloc[:done], check_exact=True)
    # TensorBoard shows every epoch once, the ones before the kill included
    assert tensorboard_steps(exp / "tensorboard") == {"train": list(range(EPOCHS)), "validation": list(range(EPOCHS))}
    # the backup is gone; what is left is what the rules declare
    assert not (exp / ".backup").exists()
    assert sorted(p.name for p in exp.iterdir()) == sorted(
        [
            "confusion_matrix.csv",
            "confusion_matrix.png",
            "history.csv",
            "metrics.json",
            "model.keras",
            "model_card.md",
            "outputs.npz",
            "predictions.csv",
            "tensorboard",
            "train_environment.json",
            "training_curves.png",
        ]
    )
    # metrics.json says the model was resumed (so it is not bit-identical to an uninterrupted run)
    metrics = json.loads((exp / "metrics.json").read_text())
    expected = json.loads((workdir / "results/penguins/reference/metrics.json").read_text())
    assert metrics["provenance"]["training_environment"]["resumed"] == [{"after_epoch": done}]
    assert expected["provenance"]["training_environment"]["resumed"] == []
    assert metrics["epochs_run"] == EPOCHS and 0.0 <= metrics["metrics"]["accuracy"] <= 1.0
    # the same training, give or take the shuffling order of the last epochs
    assert abs(metrics["metrics"]["accuracy"] - expected["metrics"]["accuracy"]) <= 0.15
    assert abs(history["loss"].iloc[-1] - reference["loss"].iloc[-1]) <= 0.25 * reference["loss"].iloc[-1]
    assert planned_jobs(workdir, "results/penguins/killed/metrics.json", "--configfile", "resume.yaml") == {}


def test_a_backup_of_other_settings_is_discarded_not_resumed(penguins):
    """A rerun triggered by changed params starts at epoch 1: its result is that of an uninterrupted run."""
    workdir = penguins
    log = workdir / "logs/penguins/changed/train.log"
    kill_when(workdir, "results/penguins/changed/model.keras", log, epoch_started(KILL_AFTER))
    assert (workdir / "results/penguins/changed/.backup/state.json").exists()
    overlay = penguins_overlay()
    overlay["experiments"]["changed"]["training"]["epochs"] = 250
    write_config(workdir, "changed.yaml", overlay)
    run(workdir, "--rerun-incomplete", "results/penguins/changed/model.keras", configfile="changed.yaml")
    text = log.read_text()
    assert (
        "discarded the backup in results/penguins/changed/.backup of an earlier, unfinished run of this job (its "
        "settings differ from this run's), so training starts at epoch 1"
    ) in text
    assert "resumed" not in text and "from epoch 1; backup" in first_line(log)
    history = pd.read_csv(workdir / "results/penguins/changed/history.csv")
    reference = pd.read_csv(workdir / "results/penguins/reference/history.csv")
    pd.testing.assert_frame_equal(history, reference.iloc[:250], check_exact=True)


def test_a_backup_made_by_other_code_is_discarded_not_resumed(penguins):
    """Changing the code a training job runs reruns it (its code param); it must not resume a backup
    that the old code made. (Last in this module: the edit reruns every training job of the copy.)"""
    workdir = penguins
    log = workdir / "logs/penguins/coded/train.log"
    kill_when(workdir, "results/penguins/coded/model.keras", log, epoch_started(KILL_AFTER))
    builders = workdir / "dlwf/nn/builders.py"
    builders.write_text(builders.read_text() + "\n\ndef _added():  # new code that changes no result\n    return 1\n")
    run(workdir, "--rerun-incomplete", "results/penguins/coded/model.keras")
    expected = (
        "discarded the backup in results/penguins/coded/.backup of an earlier, unfinished run of this job "
        "(the code it ran differs from this run's), so training starts at epoch 1"
    )
    assert expected in log.read_text()
    history = pd.read_csv(workdir / "results/penguins/coded/history.csv")
    reference = pd.read_csv(workdir / "results/penguins/reference/history.csv")
    pd.testing.assert_frame_equal(history, reference, check_exact=True)


# ------------------------------------------------------------------ images: keras-tuner and TensorBoard everywhere

DATASET = "cifar10-slice"
IMAGE_FILES = ["train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy"]
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
TUNER = {
    "dataset": DATASET,
    "seed": 2,
    "model": {"builder": "cnn", "args": {"dense_units": [50]}},
    "tuner": {
        "objective": "val_loss",
        "max_trials": 3,
        "hyperparameters": {
            "conv_layers": {"type": "int", "min": 1, "max": 2, "step": 1},
            "dropout": {"type": "float", "min": 0.2, "max": 0.8, "step": 0.3},
        },
    },
    "training": {"epochs": 4, "tensorboard": True},
}


def images_overlay(shared_data: Path) -> dict:
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    datasets = {d: {"enabled": False} for d in default["datasets"]}
    datasets[DATASET] = {
        "kind": "images",
        "class_names": CLASSES,
        "subset": {"train": 300, "test": 100},
        "files": [{"name": n, "url": str(shared_data / "cifar10-subset" / n)} for n in IMAGE_FILES],
    }
    cnn = {
        "dataset": DATASET,
        "seed": 2,
        "model": {"builder": "cnn", "args": {"conv_layers": 1, "dense_units": [20]}},
        "training": {"epochs": 2, "tensorboard": True},
    }
    transfer = {
        "dataset": DATASET,
        "model": {"builder": "transfer_head"},
        "base_model": {"name": "MobileNet", "alpha": 0.25, "weights": None, "input_size": 32},
        "training": {"epochs": 3, "tensorboard": True},
    }
    return {
        "datasets": datasets,
        "train_threads": 1,
        "resume": {"every_seconds": 0},
        "experiments": {
            "tuning": copy.deepcopy(TUNER),
            "tuning_reference": copy.deepcopy(TUNER),
            "cnn": cnn,
            "sweep": {**copy.deepcopy(cnn), "sweep": {"arg": "dropout", "values": [0.2, 0.5]}},
            "transfer_head": transfer,
        },
    }


@pytest.fixture(scope="module")
def images(tmp_path_factory, shared_data):
    workdir = copy_workflow(tmp_path_factory.mktemp("resume_images") / "wf")
    write_config(workdir, "resume.yaml", images_overlay(shared_data))
    run(workdir, f"results/{DATASET}/tuning_reference/trials.csv")
    return workdir


def trial_started(n: int, epoch: int):
    """The log shows keras-tuner's trial ``n`` (1-based, as it prints them) at epoch ``epoch``."""

    def ready(text: str) -> bool:
        at = text.find(f"Running Trial #{n}\n")
        return at >= 0 and f"Epoch {epoch}/" in text[at:]

    return ready


def test_a_killed_tuner_search_does_not_run_its_finished_trials_again(images):
    workdir = images
    exp = workdir / "results" / DATASET / "tuning"
    log = workdir / "logs" / DATASET / "tuning" / "tune.log"
    kill_when(workdir, f"results/{DATASET}/tuning/trials.csv", log, trial_started(2, 3))
    assert (exp / ".backup/tuner/oracle.json").exists()  # keras-tuner's project survives: not an output
    done = json.loads((exp / ".backup/trials/1/state.json").read_text())["epochs_done"]
    assert done in (2, 3)

    run(workdir, "--rerun-incomplete", f"results/{DATASET}/tuning/trials.csv")
    text = log.read_text()
    assert first_line(log).startswith(f"TUNING {DATASET}/tuning: inputs (300, 32, 32, 3) -> targets (300,)")
    assert "resuming the search from the backup" in first_line(log)
    assert ("trial(s) 0 had finished before the job was interrupted and are not run again") in text
    assert "Running Trial #1\n" not in text and "Running Trial #2\n" in text and "Running Trial #3\n" in text
    assert (f"resumed from the backup in results/{DATASET}/tuning/.backup/trials/1: epochs 1-{done} were done") in text

    trials = pd.read_csv(exp / "trials.csv")
    reference = pd.read_csv(workdir / "results" / DATASET / "tuning_reference" / "trials.csv")
    assert list(trials["trial"]) == [0, 1, 2] and (trials["status"] == "COMPLETED").all()
    assert trials[["conv_layers", "dropout"]].equals(reference[["conv_layers", "dropout"]])  # the same grid points
    pd.testing.assert_series_equal(trials.iloc[0], reference.iloc[0], check_exact=True)  # finished before the kill
    history = pd.read_csv(exp / "trials_history.csv")
    assert history.groupby("trial")["epoch"].apply(list).to_dict() == {t: [1, 2, 3, 4] for t in (0, 1, 2)}
    before = history[(history["trial"] == 1) & (history["epoch"] <= done)].reset_index(drop=True)
    reference_history = pd.read_csv(workdir / "results" / DATASET / "tuning_reference" / "trials_history.csv")
    expected = reference_history[(reference_history["trial"] == 1) & (reference_history["epoch"] <= done)]
    pd.testing.assert_frame_equal(before, expected.reset_index(drop=True), check_exact=True)
    for trial in ("0", "1", "2"):  # one TensorBoard run per trial, every epoch once
        steps = tensorboard_steps(exp / "tensorboard" / trial / "execution0")
        assert steps == {"train": [0, 1, 2, 3], "validation": [0, 1, 2, 3]}, trial
    assert not (exp / ".backup").exists() and not (exp / "tuner").exists()
    environment = json.loads((exp / "train_environment.json").read_text())
    assert environment["resumed"] == [{"trials_not_run_again": ["0"]}, {"trial": "1", "after_epoch": done}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_tensorboard_shows_every_experiment_of_the_dataset(images):
    """`tensorboard --logdir results/<dataset>` (the real server) lists train and validation curves of a
    CNN, each sweep point, each tuner trial and a transfer head."""
    workdir = images
    run(
        workdir,
        *[f"results/{DATASET}/{e}/model.keras" for e in ("cnn", "transfer_head")],
        f"results/{DATASET}/sweep/sweep.csv",
    )
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "tensorboard"),
            "--logdir",
            f"results/{DATASET}",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--load_fast",
            "false",
            "--reload_interval",
            "1",
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    expected = {
        f"{e}/tensorboard/{split}"
        for e in ("cnn", "sweep/dropout_0.2", "sweep/dropout_0.5", "transfer_head")
        for split in ("train", "validation")
    }
    expected |= {
        f"tuning_reference/tensorboard/{t}/execution0/{split}" for t in "012" for split in ("train", "validation")
    }
    try:
        runs: set[str] = set()
        deadline = time.monotonic() + 120
        while not expected <= runs:
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, f"TensorBoard lists {sorted(runs)}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=5) as response:
                    runs = set(json.loads(response.read()))
            except OSError:
                pass
            time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/plugin/scalars/tags", timeout=5) as response:
            tags = json.loads(response.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name in expected:
        assert "epoch_loss" in tags[name], (name, tags.get(name))
    assert not [r for r in runs if ".backup" in r]
    assert re.search(r"\btuning_reference/tensorboard/0/execution0\b", " ".join(runs))  # keras-tuner's hparams run
