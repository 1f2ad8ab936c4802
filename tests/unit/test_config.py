"""The JSON schema accepts the default config and rejects bad ones, naming the key."""

import copy

import pytest
import yaml

from dlwf.plan.config import config_errors, load_schema, validate
from tests.workflow import REPO, snakemake, write_config

SCHEMA_PATH = REPO / "config" / "schema.yaml"


@pytest.fixture(scope="module")
def schema():
    return load_schema(SCHEMA_PATH)


@pytest.fixture
def default_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_config_is_valid_and_gets_defaults(default_config, schema):
    filled, problems = validate(default_config, schema)
    assert problems == []
    assert "attempts" not in default_config.get("download", {}) or default_config["download"]["attempts"] >= 1
    assert filled["download"]["attempts"] >= 1
    assert filled["experiments"]["dense10"]["enabled"] is True
    # defaults inside nested, optional and per-builder blocks come from the schema too
    assert filled["experiments"]["dense10"]["model"]["args"]["activation"] == "relu"
    early_stopping = filled["experiments"]["dense_100_50_earlystop"]["training"]["early_stopping"]
    assert early_stopping["restore_best_weights"] is False and early_stopping["min_delta"] == 0.0
    assert filled["experiments"]["transfer"]["base_model"]["weights_include_top"] is False
    assert "enabled" not in default_config["experiments"]["dense10"], "validate must not change its argument"


def test_whole_numbers_of_float_settings_become_floats(default_config, schema):
    """`dropout: 0` and the default `0.0` are the same setting (and the same params)."""
    default_config["experiments"]["cnn_pool"]["model"]["args"]["dropout"] = 0
    default_config["experiments"]["dense10"]["training"]["learning_rate"] = 1
    filled, problems = validate(default_config, schema)
    assert problems == []
    assert repr(filled["experiments"]["cnn_pool"]["model"]["args"]["dropout"]) == "0.0"
    assert repr(filled["experiments"]["dense10"]["training"]["learning_rate"]) == "1.0"
    assert filled["experiments"]["dropout_sweep"]["sweep"]["values"][0] == 0.2


def _first_experiment(config):
    return next(iter(config["experiments"]))


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda c, e: c.update(unknown_option=1), "config key unknown_option: unknown key"),
        (lambda c, e: c["experiments"][e].update(epoch=3), "config key experiments.{e}.epoch: unknown key"),
        (
            lambda c, e: c["experiments"][e]["training"].update(epochs=-5),
            "config key experiments.{e}.training.epochs: -5 is less than the minimum of 1",
        ),
        (
            lambda c, e: c["experiments"][e]["training"].update(epochs=0),
            "config key experiments.{e}.training.epochs: 0 is less than the minimum of 1",
        ),
        (
            lambda c, e: c["experiments"][e]["training"].update(epochs="ten"),
            "config key experiments.{e}.training.epochs: 'ten' has the wrong type, expected integer",
        ),
        (lambda c, e: c["experiments"][e]["training"].update(loss="hinge"), "config key experiments.{e}.training.loss"),
        (
            lambda c, e: c["datasets"]["penguins"]["files"][0].update(md5="xyz"),
            "config key datasets.penguins.files.0.md5: 'xyz' does not match",
        ),
        (lambda c, e: c.update(train_threads=1.5), "config key train_threads: 1.5 has the wrong type"),
    ],
)
def test_bad_config_names_the_key(default_config, schema, mutate, expected):
    experiment = _first_experiment(default_config)
    bad = copy.deepcopy(default_config)
    mutate(bad, experiment)
    problems = config_errors(bad, schema)
    assert any(expected.format(e=experiment) in p for p in problems), problems


def test_workflow_refuses_unknown_dataset_reference(workflow_dir):
    overlay = write_config(workflow_dir, "bad.yaml", {"experiments": {"dense10": {"dataset": "penguinz"}}})
    proc = snakemake(workflow_dir, "--dry-run", "--configfile", str(overlay), check=False)
    assert proc.returncode != 0
    assert "config key experiments.dense10.dataset: unknown dataset 'penguinz'" in proc.stderr + proc.stdout


def test_workflow_reports_schema_errors_before_running(workflow_dir):
    proc = snakemake(workflow_dir, "--dry-run", "--config", "train_threads=0", check=False)
    assert proc.returncode != 0
    assert "config key train_threads: 0 is less than the minimum of 1" in proc.stderr + proc.stdout


def test_workflow_refuses_a_reserved_experiment_id(workflow_dir):
    spec = {"dataset": "penguins", "model": {"builder": "dense"}, "training": {"epochs": 1, "loss": "mse"}}
    overlay = write_config(workflow_dir, "bad.yaml", {"experiments": {"split": spec}})
    proc = snakemake(workflow_dir, "--dry-run", "--configfile", str(overlay), check=False)
    assert proc.returncode != 0
    assert "config key experiments.split: 'split' is reserved for workflow files; choose another experiment id" in (
        proc.stderr + proc.stdout
    )


def test_target_naming_an_unknown_experiment_is_refused(workflow_dir):
    proc = snakemake(workflow_dir, "--dry-run", "results/penguins/dense11/metrics.json", check=False)
    assert proc.returncode != 0
    assert "No rule to produce results/penguins/dense11/metrics.json" in proc.stderr + proc.stdout


def test_offline_overlay_plans_every_lesson_experiment(workflow_dir, shared_data):
    from tests.workflow import planned_jobs

    jobs = planned_jobs(workflow_dir, "--configfile", "config/offline.yaml")
    assert jobs["train_tabular"] + jobs["train_tabular_tensorboard"] == 8  # 2 penguins + 6 weather
    assert jobs["train_image_classifier"] == 5 + 6  # the sweep's 6 points train like any image model
    assert jobs["tune_image_classifier"] == 2 and jobs["features"] == 1
    assert jobs["report_dataset"] == 3 and jobs["leaderboard"] == 1


def test_tensorboard_is_a_declared_output_of_every_training_kind(workflow_dir, shared_data):
    """Issue 17: `training.tensorboard: true` works for CNNs, sweep points, tuners and transfer heads
    (it used to be accepted and ignored): each trains through the rule variant that declares it."""
    from tests.workflow import planned_jobs

    on = {"training": {"tensorboard": True}}
    overlay = write_config(
        workflow_dir,
        "tensorboard.yaml",
        {"experiments": {name: on for name in ("cnn_pool", "dropout_sweep", "tuning", "transfer", "dense10")}},
    )
    jobs = planned_jobs(workflow_dir, "--configfile", "config/offline.yaml", "--configfile", str(overlay))
    assert jobs["train_image_classifier_tensorboard"] == 1 + 6  # cnn_pool and the sweep's six points
    assert jobs["train_image_classifier"] == 4
    assert jobs["tune_image_classifier_tensorboard"] == 1 and jobs["tune_image_classifier"] == 1
    assert jobs["train_transfer_head_tensorboard"] == 1 and "train_transfer_head" not in jobs
    assert jobs["train_tabular_tensorboard"] == 6 + 1 and jobs["train_tabular"] == 1
