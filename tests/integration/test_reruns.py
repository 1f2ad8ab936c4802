"""Reruns follow exactly what changed (issue: the experiment plan in the package).

One small finished state (a penguins net, the weather file fetched through the mirror with no md5
configured, a transfer head on a tiny random base), then dry runs after edits that change nothing
a job computes: each must plan no job, or only the jobs that show what was edited.
"""

import hashlib
import json
import os
import shutil

import pytest
import yaml

from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration

WEATHER = "weather_prediction_dataset.csv"
WEATHER_MD5 = "cb5c07c9d1307d41823a332d02e03bad"
ZENODO = "https://zenodo.org/records/4980359/files/weather_prediction_dataset.csv?download=1"
IMAGES = ("train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy")
TARGETS = [
    "results/leaderboard.csv",
    "reports/penguins.html",
    "results/weather/split/3y/train.csv",
    "results/tiny/transfer_tiny/head.keras",
]


def base_overlay(shared_data) -> dict:
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    datasets = {d: {"enabled": d == "penguins"} for d in default["datasets"]}
    datasets["weather"]["files"] = [{"name": WEATHER, "url": ZENODO, "md5": None}]
    datasets["tiny"] = {
        "kind": "images",
        "enabled": False,  # not in the leaderboard; its transfer head is a target of its own
        "files": [{"name": n, "url": str(shared_data / "cifar10-subset" / n)} for n in IMAGES],
        "class_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
        "subset": {"train": 40, "test": 20},
    }
    transfer = {
        "dataset": "tiny",
        "base_model": {"name": "MobileNet", "alpha": 0.25, "weights": None, "input_size": 32},
        "model": {"builder": "transfer_head"},
        "training": {
            "epochs": 2,
            "loss": "sparse_categorical_crossentropy",
            "from_logits": True,
            "metrics": ["accuracy"],
            "validation": "test",
        },
    }
    return {
        "datasets": datasets,
        "experiments": {
            "dense10": {"training": {"epochs": 5}},
            "dense10_normalized": {"training": {"epochs": 5}},
            "transfer_tiny": transfer,
        },
    }


@pytest.fixture(scope="module")
def state(tmp_path_factory, shared_data):
    workdir = copy_workflow(tmp_path_factory.mktemp("reruns") / "wf")
    overlay = base_overlay(shared_data)
    write_config(workdir, "base.yaml", overlay)
    snakemake(workdir, "--configfile", "base.yaml", "--config", f"mirror={shared_data}", "--", *TARGETS)
    return workdir, overlay, shared_data


def dry_run(workdir, overlay: dict, name: str = "edit.yaml", targets=TARGETS) -> dict[str, int]:
    write_config(workdir, name, overlay)
    return planned_jobs(workdir, "--configfile", name, "--", *targets)


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_the_finished_state_plans_nothing(state):
    workdir, overlay, _ = state
    assert dry_run(workdir, overlay, "base.yaml") == {}


def test_a_copied_or_moved_checkout_plans_nothing(state, tmp_path):
    workdir, overlay, _ = state
    copy = tmp_path / "copied" / "wf"
    shutil.copytree(workdir, copy, symlinks=True)  # copy2: contents and times, as cp -a
    assert planned_jobs(copy, "--configfile", "base.yaml", "--", *TARGETS) == {}
    moved = tmp_path / "moved"
    os.rename(copy, moved)
    assert planned_jobs(moved, "--configfile", "base.yaml", "--", *TARGETS) == {}


def test_reordered_keys_and_defaults_written_out_plan_nothing(state):
    workdir, overlay, _ = state
    edited = yaml.safe_load(yaml.safe_dump(overlay))
    dense10 = edited["experiments"]["dense10"]
    dense10["training"] = {
        "optimizer": "adam",
        "batch_size": 32,
        "learning_rate": None,
        **dense10["training"],
        "tensorboard": False,
    }
    dense10["model"] = {"args": {"batch_norm": False, "activation": "relu"}}
    edited["experiments"]["transfer_tiny"]["base_model"]["pooling"] = "max"
    edited["experiments"] = dict(reversed(list(edited["experiments"].items())))
    assert dry_run(workdir, edited) == {}


def test_a_reworded_description_trains_and_evaluates_nothing(state):
    workdir, overlay, _ = state
    edited = yaml.safe_load(yaml.safe_dump(overlay))
    edited["experiments"]["dense10"]["description"] = "a reworded description"
    jobs = dry_run(workdir, edited)
    assert not {"train_tabular", "evaluate_classifier"} & set(jobs), jobs
    assert jobs.get("leaderboard") == 1 and jobs.get("report_dataset") == 1  # they show the description


def test_raising_repeats_trains_only_the_new_seeds(state):
    workdir, overlay, _ = state
    edited = yaml.safe_load(yaml.safe_dump(overlay))
    edited["experiments"]["dense10"]["repeats"] = 3
    jobs = dry_run(workdir, edited, targets=TARGETS + ["results/penguins/dense10/repeats.json"])
    assert jobs["train_tabular"] == 2 and jobs["evaluate_classifier"] == 2
    assert jobs["aggregate_repeats"] == 1


def test_renaming_the_transfer_experiment_reuses_the_features(state):
    workdir, overlay, _ = state
    edited = yaml.safe_load(yaml.safe_dump(overlay))
    edited["experiments"]["transfer_renamed"] = edited["experiments"].pop("transfer_tiny")
    jobs = dry_run(workdir, edited, targets=["results/tiny/transfer_renamed/head.keras"])
    assert jobs == {"train_transfer_head": 1}


def test_retry_settings_download_nothing(state):
    workdir, overlay, _ = state
    edited = {**yaml.safe_load(yaml.safe_dump(overlay)), "download": {"attempts": 1, "backoff": 0.1, "timeout": 1}}
    assert dry_run(workdir, edited) == {}


def test_gpu_and_container_settings_rerun_nothing(state):
    """require_gpu and container decide how jobs run, not what they compute (README, GPUs, Containers)."""
    workdir, overlay, _ = state
    edited = {**yaml.safe_load(yaml.safe_dump(overlay)), "require_gpu": True, "container": "images/dlwf-gpu.sif"}
    assert dry_run(workdir, edited) == {}


def test_resume_and_progress_settings_rerun_nothing(state):
    """How jobs back up and show their progress changes no result (issue 17: config keys resume and
    download.progress_seconds are not params), and a backup directory left beside the results
    (results/<dataset>/<experiment>/.backup/, never an output) plans nothing either."""
    workdir, overlay, _ = state
    edited = {
        **yaml.safe_load(yaml.safe_dump(overlay)),
        "resume": {"enabled": False, "every_seconds": 0},
        "download": {"progress_seconds": 0.5},
    }
    assert dry_run(workdir, edited) == {}
    leftover = workdir / "results" / "penguins" / "dense10" / ".backup"
    leftover.mkdir()
    (leftover / "fingerprint.json").write_text("{}")
    try:
        assert dry_run(workdir, overlay, "base.yaml") == {}
    finally:
        shutil.rmtree(leftover)


def test_the_first_fetch_records_the_md5_of_a_file_without_one(state):
    workdir, _, _ = state
    lock = json.loads((workdir / "resources" / "weather" / f"{WEATHER}.lock.json").read_text())
    assert lock["md5"] == WEATHER_MD5 and lock["url"] == ZENODO
    provenance = json.loads((workdir / "resources" / "weather" / f"{WEATHER}.provenance.json").read_text())
    assert provenance["md5"] == WEATHER_MD5 and provenance["kept"] is False


def test_an_offline_rerun_of_the_download_keeps_the_verified_file(state):
    """A changed source (here: another URL for the same file) reruns the download; without internet
    and without the mirror the present file, verified against the lock, stays and the run goes on."""
    workdir, overlay, _ = state
    raw = workdir / "resources" / "weather" / WEATHER
    edited = yaml.safe_load(yaml.safe_dump(overlay))
    edited["datasets"]["weather"]["files"][0]["url"] = ZENODO.replace("?download=1", "")
    write_config(workdir, "moved_url.yaml", edited)
    assert planned_jobs(workdir, "--configfile", "moved_url.yaml", "--", raw.relative_to(workdir)) == {"download": 1}
    proc = snakemake(workdir, "--configfile", "moved_url.yaml", "--", str(raw.relative_to(workdir)))
    assert md5(raw) == WEATHER_MD5
    log = (workdir / "logs" / "download" / "weather" / f"{WEATHER}.log").read_text()
    assert "kept the present" in log and "nothing fetched" in log, log + proc.stderr
    provenance = json.loads((workdir / "resources" / "weather" / f"{WEATHER}.provenance.json").read_text())
    assert provenance["kept"] is True


def test_a_fetch_that_differs_from_the_lock_fails_and_keeps_the_present_file(state):
    workdir, overlay, shared_data = state
    raw = workdir / "resources" / "weather" / WEATHER
    lock = raw.with_name(f"{WEATHER}.lock.json")
    record = json.loads(lock.read_text())
    lock.write_text(json.dumps({**record, "md5": "0" * 32}))
    try:
        proc = snakemake(
            workdir,
            "--configfile",
            "base.yaml",
            "--config",
            f"mirror={shared_data}",
            "--forcerun",
            "download",
            "--",
            str(raw.relative_to(workdir)),
            check=False,
        )
        assert proc.returncode != 0
        text = proc.stdout + proc.stderr
        assert f"checksum mismatch for {WEATHER}" in text and f"{lock.relative_to(workdir)}" in text, text[-3000:]
        assert md5(raw) == WEATHER_MD5  # Snakemake restored the file it kept (update())
    finally:
        lock.write_text(json.dumps(record))
