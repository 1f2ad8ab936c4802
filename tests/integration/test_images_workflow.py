"""Episode 4 end to end: every image experiment on a tiny slice of the shared CIFAR-10 subset.

One workflow run (module fixture) with 1-2 epochs, two sweep values and two tuner trials;
the tests then check what a user would look at. A second, targeted run checks that tuning
gives the same trials again.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from tests.workflow import REPO, copy_workflow, snakemake, write_config

pytestmark = pytest.mark.integration

DATASET = "cifar10-subset"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
SINGLE = ["cnn_small", "cnn_pool", "dense_only", "cnn_extra_layer", "cnn_dropout"]
TUNERS = ["tuning", "tuning_activation_kernel"]
N_TRAIN, N_TEST = 200, 100
# parameter counts of the lesson's models on 32x32 inputs (the 64x64 counts are checked in tests/unit)
PARAMETERS_32 = {
    "cnn_small": 415_960,
    "cnn_pool": 114_510,
    "dense_only": 156_710,
    "cnn_extra_layer": 57_060,
    "cnn_dropout": 57_060,
}


def overlay(shared_data) -> dict:
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    source = shared_data / DATASET
    datasets = {name: {"enabled": False} for name in default["datasets"]}
    datasets[DATASET] = {
        "kind": "images",
        "description": "first 200/100 images of the shared CIFAR-10 subset",
        "files": [
            {"name": n, "url": str(source / n)}
            for n in ["train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy"]
        ],
        "subset": {"train": N_TRAIN, "test": N_TEST},
        "class_names": CLASSES,
    }
    experiments = {e: {"dataset": DATASET, "training": {"epochs": 1}} for e in SINGLE + TUNERS}
    experiments["cnn_pool"]["training"]["epochs"] = 2
    experiments["dropout_sweep"] = {"dataset": DATASET, "training": {"epochs": 2}, "sweep": {"values": [0.2, 0.8]}}
    for e in TUNERS:
        experiments[e]["tuner"] = {"max_trials": 2}
    return {"train_threads": 1, "datasets": datasets, "experiments": experiments}


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_data):
    workdir = copy_workflow(tmp_path_factory.mktemp("images") / "wf")
    config = write_config(workdir, "test_images.yaml", overlay(shared_data))
    proc = snakemake(workdir, "--configfile", str(config), timeout=1200)
    return workdir, config, proc.stdout + proc.stderr


def results(workdir, *parts):
    return workdir.joinpath("results", DATASET, *parts)


def test_prepared_data_is_the_requested_slice_with_class_names(run):
    workdir, _, _ = run
    classes = json.loads(results(workdir, "prepared", "classes.json").read_text())
    assert classes["class_names"] == CLASSES
    assert classes["counts"] == {"train": N_TRAIN, "test": N_TEST}
    assert classes["image_shape"] == [32, 32, 3]
    assert results(workdir, "exploration", "sample_images.png").stat().st_size > 10_000


@pytest.mark.parametrize("experiment", SINGLE + TUNERS)
def test_each_model_has_history_curves_confusion_and_metrics(run, experiment):
    workdir, _, _ = run
    d = results(workdir, experiment)
    history = pd.read_csv(d / "history.csv")
    assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.columns)
    assert len(history) == (2 if experiment == "cnn_pool" else 1)
    for png in ("training_curves.png", "confusion_matrix.png"):
        assert (d / png).stat().st_size > 5_000
    confusion = pd.read_csv(d / "confusion_matrix.csv", index_col=0)
    assert list(confusion.index) == CLASSES and list(confusion.columns) == CLASSES
    assert int(confusion.to_numpy().sum()) == N_TEST
    metrics = json.loads((d / "metrics.json").read_text())
    assert metrics["primary_metric"]["name"] == "accuracy"
    assert 0.0 <= metrics["metrics"]["accuracy"] <= 1.0
    assert set(metrics["metrics"]["per_class"]) == set(CLASSES)
    assert metrics["baseline"]["name"] == "majority class of the training set"
    assert metrics["beats_baseline"] == (metrics["metrics"]["accuracy"] > metrics["baseline"]["accuracy"])
    assert metrics["test_set"]["file"] == "test_images.npy"
    assert metrics["epochs_run"] == len(history)
    if experiment in PARAMETERS_32:
        assert metrics["n_parameters"] == PARAMETERS_32[experiment]
    predictions = pd.read_csv(d / "predictions.csv")
    assert len(predictions) == N_TEST and set(predictions["predicted"]) <= set(CLASSES)


def test_sweep_has_one_row_per_value_and_the_lessons_plot(run):
    workdir, _, _ = run
    d = results(workdir, "dropout_sweep")
    table = pd.read_csv(d / "sweep.csv")
    assert table["dropout"].tolist() == [0.2, 0.8]
    assert (table["epochs_run"] == 2).all()
    for value in ("0.2", "0.8"):  # each value is a run of its own, with the usual files
        point = json.loads((d / f"dropout_{value}" / "metrics.json").read_text())
        assert point["provenance"]["config"]["model"]["args"]["dropout"] == float(value)
        assert point["experiment"] == f"dropout_sweep/dropout_{value}"
        assert (d / f"dropout_{value}" / "model.keras").exists()
        assert (d / f"dropout_{value}" / "confusion_matrix.png").exists()
    grid = pd.read_csv(d / "grid.csv")
    assert grid["point"].tolist() == ["dropout_0.2", "dropout_0.8"] and (d / "grid.png").exists()
    assert (d / "sweep_val_loss.png").stat().st_size > 5_000
    # metrics.json has every classifier's layout; its accuracy is that of the lowest final val_loss
    metrics = json.loads((d / "metrics.json").read_text())
    best = table.loc[table["val_loss"].idxmin()]
    assert metrics["best"]["dropout"] == best["dropout"]
    assert metrics["primary_metric"] == {
        "name": "accuracy",
        "value": pytest.approx(best["val_accuracy"]),
        "higher_is_better": True,
    }
    assert metrics["metrics"]["loss"] == pytest.approx(best["val_loss"])
    assert metrics["baseline"]["name"] == "majority class of the training set"
    assert metrics["test_set"]["file"] == "test_images.npy"
    assert metrics["provenance"]["environment"]["keras"]


@pytest.mark.parametrize(
    "experiment, columns",
    [("tuning", ["conv_layers", "dropout"]), ("tuning_activation_kernel", ["kernel_size", "activation"])],
)
def test_tuner_writes_one_row_per_trial_and_removes_its_state_when_done(run, experiment, columns):
    workdir, _, _ = run
    d = results(workdir, experiment)
    trials = pd.read_csv(d / "trials.csv")
    assert len(trials) == 2
    assert set(columns + ["score", "status"]) <= set(trials.columns)
    assert (trials["status"] == "COMPLETED").all() and trials["score"].notna().all()
    # GridSearch walks the grid in the declared order, as in the lesson's output
    first = {"tuning": [1, pytest.approx(0.2)], "tuning_activation_kernel": [3, "relu"]}[experiment]
    assert trials.loc[0, columns].tolist() == first
    # keras-tuner's project lived in the job's backup (results/.../.backup/tuner, not an output, so a
    # killed search resumes: tests/integration/test_resume.py); the completed job removed it
    assert not (d / ".backup").exists() and not (d / "tuner").exists()
    assert len(pd.read_csv(d / "trials_history.csv")) == 2


def test_gpu_resources_are_declared_but_do_not_block_a_local_run(run):
    workdir, _, output = run
    assert "gpu=1" in output  # training, sweep and tuner jobs ask for a GPU, and ran without one
    # ... and each says so in its log and, through its train_environment.json, in metrics.json
    for experiment, log in (("cnn_pool", "train.log"), ("tuning", "tune.log")):
        assert "WARNING: this job requested 1 GPU" in (workdir / "logs" / DATASET / experiment / log).read_text()
        provenance = json.loads(results(workdir, experiment, "metrics.json").read_text())["provenance"]
        training = provenance["training_environment"]
        assert training["gpu_requested"] == 1 and training["device"].startswith("CPU")
        assert "TensorFlow sees none" in training["warnings"][0]
        assert provenance["environment"]["gpu_requested"] == 0  # the evaluation asked for no GPU
        assert provenance["environment"]["warnings"] == []
    sweep = json.loads(results(workdir, "dropout_sweep", "metrics.json").read_text())["provenance"]
    assert sweep["training_environment"]["gpu_requested"] == 1
    board = pd.read_csv(workdir / "results" / "leaderboard.csv")
    assert board["training_device"].str.startswith("CPU").all()


def test_tuning_again_gives_the_same_trials(run):
    workdir, config, _ = run
    trials = results(workdir, "tuning", "trials.csv")
    before = trials.read_text()
    trials.unlink()
    snakemake(workdir, str(trials.relative_to(workdir)), "--configfile", str(config))
    assert trials.read_text() == before


def test_sweep_and_tuner_in_one_experiment_is_a_config_error(run):
    workdir, _, _ = run
    bad = write_config(workdir, "bad.yaml", {"experiments": {"tuning": {"sweep": {"arg": "dropout", "values": [0.1]}}}})
    proc = snakemake(workdir, "--dry-run", "--configfile", str(bad), check=False)
    assert proc.returncode != 0
    assert "experiments.tuning: set either sweep or tuner, not both" in proc.stdout + proc.stderr
