"""The transfer experiment (episode 5) on a slice of the shared CIFAR-10 subset with the shared,
really ImageNet-pretrained MobileNet (a Keras 2 full model whose top is cut off)."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration

DATASET = "cifar10_slice"
N_TRAIN, N_TEST = 300, 100
MOBILENET_MD5 = "f750957d4f752ddc082e814a463fa09c"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def overlay(shared_data, **head_args):
    """Only the CIFAR-10 slice enabled; the default `transfer` experiment moved onto it with the shared MobileNet."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    datasets = {d: {"enabled": False} for d in default["datasets"]}
    subset_dir = shared_data / "cifar10-subset"
    datasets[DATASET] = {
        "kind": "images",
        "description": "first images of the shared CIFAR-10 subset",
        "files": [
            {"name": n, "url": str(subset_dir / n)}
            for n in ("train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy")
        ],
        "class_names": CLASSES,
        "subset": {"train": N_TRAIN, "test": N_TEST},
    }
    base = {
        "name": "MobileNet",
        "alpha": 0.25,
        "weights": str(shared_data / "pretrained" / "mobilenet_v1_0.25_224_imagenet.h5"),
        "weights_include_top": True,
        "input_size": 160,
        "preprocess": "base",
    }
    experiments = {
        "transfer": {
            "dataset": DATASET,
            "description": "the shared ImageNet MobileNet (alpha 0.25), frozen, + the lesson's head",
            "base_model": base,
            "model": {"args": {"units": 50, **head_args}},
            "training": {"epochs": 15},
        }
    }
    return {"datasets": datasets, "experiments": experiments}


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory, shared_data):
    workdir = copy_workflow(tmp_path_factory.mktemp("transfer") / "wf")
    config = write_config(workdir, "test.yaml", overlay(shared_data))
    snakemake(workdir, "--configfile", str(config))
    return workdir, shared_data


def features_dir(workdir):
    (directory,) = (workdir / "results" / DATASET / "features").iterdir()
    return directory


def test_features_are_computed_once_per_base_and_stored(transfer_run):
    workdir, _ = transfer_run
    directory = features_dir(workdir)
    assert directory.name.startswith("MobileNet_")
    assert np.load(directory / "train.npy").shape == (N_TRAIN, 256)
    assert np.load(directory / "test.npy").shape == (N_TEST, 256)
    base = json.loads((directory / "base.json").read_text())
    assert base["pretrained"] is True and base["weights_md5"] == MOBILENET_MD5
    assert base["n_images"] == {"train": N_TRAIN, "test": N_TEST}
    assert (workdir / "benchmarks" / DATASET / "features" / f"{directory.name}.tsv").exists()
    assert (workdir / "logs" / DATASET / "features" / f"{directory.name}.log").exists()


def test_results_contract(transfer_run):
    workdir, _ = transfer_run
    results = workdir / "results" / DATASET / "transfer"
    for name in (
        "model.keras",
        "head.keras",
        "history.csv",
        "metrics.json",
        "predictions.csv",
        "confusion_matrix.csv",
        "confusion_matrix.png",
        "training_curves.png",
    ):
        assert (results / name).stat().st_size > 0, name
    history = pd.read_csv(results / "history.csv")
    assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.columns)
    assert 1 <= len(history) <= 15


def test_assembled_model_on_raw_images_equals_head_on_cached_features(transfer_run):
    workdir, _ = transfer_run
    model = keras.models.load_model(workdir / "results" / DATASET / "transfer" / "model.keras", safe_mode=True)
    head = keras.models.load_model(workdir / "results" / DATASET / "transfer" / "head.keras", safe_mode=True)
    prepared = workdir / "results" / DATASET / "prepared"
    images = np.load(prepared / "test_images.npy")[:32]
    features = np.load(features_dir(workdir) / "test.npy")[:32]
    from_images = model.predict(images.astype(np.float32) / 255.0, verbose=0)
    from_features = head.predict(features, verbose=0)
    assert np.max(np.abs(from_images - from_features)) <= 1e-5
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 256 * 2 + 256 * 50 + 50 + 51 * 10


def test_metrics_report_real_pretrained_features_and_timings(transfer_run):
    workdir, _ = transfer_run
    metrics = json.loads((workdir / "results" / DATASET / "transfer" / "metrics.json").read_text())
    predictions = pd.read_csv(workdir / "results" / DATASET / "transfer" / "predictions.csv")
    assert len(predictions) == N_TEST
    assert metrics["metrics"]["accuracy"] == pytest.approx((predictions["true"] == predictions["predicted"]).mean())
    # real ImageNet features on 300 training images: far above chance (10%) and the majority class
    assert metrics["metrics"]["accuracy"] > 0.3 and metrics["beats_baseline"]
    assert metrics["base_model"]["pretrained"] is True and "warning" not in metrics
    assert metrics["equivalence"]["max_abs_logit_difference"] <= 1e-5
    timing = metrics["timing"]
    assert timing["feature_pass_s"] > 0 and timing["head_training_s"] > 0
    assert set(timing["feature_forward_pass_s"]) == {"train", "test"}


def test_changing_the_head_reuses_the_features(transfer_run):
    workdir, shared_data = transfer_run
    assert planned_jobs(workdir, "--configfile", "test.yaml") == {}
    changed = write_config(workdir, "head.yaml", overlay(shared_data, dropout=0.3))
    jobs = planned_jobs(workdir, "--configfile", str(changed))
    assert "features" not in jobs
    assert jobs["train_transfer_head"] == 1 and jobs["evaluate_transfer_model"] == 1


def test_two_experiments_on_one_base_share_one_feature_pass(transfer_run):
    workdir, shared_data = transfer_run
    config = overlay(shared_data)
    config["experiments"]["transfer_small_head"] = {
        "dataset": DATASET,
        "base_model": config["experiments"]["transfer"]["base_model"],
        "model": {"builder": "transfer_head", "args": {"units": 10}},
        "training": {
            "epochs": 15,
            "loss": "sparse_categorical_crossentropy",
            "from_logits": True,
            "metrics": ["accuracy"],
            "validation": "test",
        },
    }
    second = write_config(workdir, "two.yaml", config)
    jobs = planned_jobs(workdir, "--configfile", str(second), "--forceall")
    assert jobs["features"] == 1
    assert jobs["train_transfer_head"] == 2
