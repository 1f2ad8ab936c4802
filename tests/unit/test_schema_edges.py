"""Issue 15, item 9: every schema field against the code that consumes it.

``schema_fields()`` walks config/schema.yaml and lists every setting. ``EDGES`` gives each of them
edge values: each is either refused when the plan is made (the message names the key), or
accepted, and then the value goes through the step that uses it on tiny data (prepare, split,
train for one epoch, evaluate; the feature pass, the tuner, a sweep point), which must finish or
fail with a user error naming the setting, never with a library's exception. A new schema field
without edge values fails :func:`test_every_schema_field_has_edge_values`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlwf.core import runtime

runtime.configure_tensorflow(1)

from dlwf import plan  # noqa: E402
from dlwf.core.errors import DownloadError, ResourceError, TrainingError, WorkflowInputError  # noqa: E402
from dlwf.plan.config import load_schema  # noqa: E402
from tests.workflow import default_config, merge  # noqa: E402

USER_ERRORS = (WorkflowInputError, TrainingError, DownloadError, ResourceError)


# ------------------------------------------------------------------ the schema's fields


def schema_fields(schema: dict | None = None) -> list[str]:
    """Every leaf setting of the schema, dotted: ``*`` for any id, ``[]`` for list items, ``[builder]`` for
    the arguments a builder takes (``experiments.*.model.args[cnn].filters``)."""
    schema = schema or load_schema()
    defs = schema["$defs"]

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = {**defs[node["$ref"].split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    fields: list[str] = []

    def walk(node: dict, path: list[str]) -> None:
        node = resolve(node)
        children = [(name, sub) for name, sub in node.get("properties", {}).items()]
        if isinstance(node.get("additionalProperties"), dict):
            children.append(("*", node["additionalProperties"]))
        for entry in node.get("allOf", []):
            condition = entry.get("if", {}).get("properties", {})
            tag = "".join(f"[{v['const']}]" for v in condition.values() if "const" in v)
            children += [(name + tag, sub) for name, sub in entry.get("then", {}).get("properties", {}).items()]
        items = node.get("items")
        if isinstance(items, dict) and "properties" in resolve(items):
            children.append(("[]", items))
        for name, sub in children:
            walk(sub, path + [name])
        if not children:
            fields.append(".".join(path))

    walk(schema, [])
    return fields


# ------------------------------------------------------------------ edge values


@dataclass(frozen=True)
class Edge:
    key: str  # the concrete dotted key the value is set at
    value: object
    refused: str | None = None  # a fragment of the plan's message
    run: str | None = None  # the runner that consumes it (None: nothing at run time besides the plan)
    fails: str | None = None  # a fragment of the user error the runner must raise
    named: str | None = None  # the key the message names, when not the setting's own dataset or experiment


def R(key, value, fragment, named=None):  # noqa: N802 - refused when the plan is made
    return Edge(key, value, refused=fragment, named=named)


def OK(key, value, run=None, fails=None):  # noqa: N802 - accepted; run (and maybe a named failure) at run time
    return Edge(key, value, run=run, fails=fails)


P, W, I, IF = "datasets.penguins", "datasets.weather", "datasets.dollar_street", "datasets.photos"  # noqa: E741
D10, CNN, TR, TU = "experiments.dense10", "experiments.cnn_pool", "experiments.transfer", "experiments.tuning"
ES = "experiments.dense_100_50_earlystop"
HP = f"{TU}.tuner.hyperparameters"
NEW = "predict.new_penguins"

EDGES: dict[str, list[Edge]] = {
    "mirror": [R("mirror", "null", "is text, not a directory"), OK("mirror", None)],
    "download.attempts": [R("download.attempts", 0, "less than the minimum of 1"), OK("download.attempts", 1)],
    "download.backoff": [R("download.backoff", -1, "less than the minimum of 0"), OK("download.backoff", 0)],
    "download.timeout": [R("download.timeout", 0, "less than or equal to the minimum of 0")],
    "download.progress_seconds": [
        R("download.progress_seconds", -1, "less than the minimum of 0"),
        OK("download.progress_seconds", 0),
    ],
    "resume.enabled": [R("resume.enabled", "no", "wrong type"), OK("resume.enabled", False)],
    "resume.every_seconds": [
        R("resume.every_seconds", -1, "less than the minimum of 0"),
        OK("resume.every_seconds", 0),
    ],
    "container": [R("container", "", "should be non-empty"), OK("container", "docker://registry.example/dlwf:1")],
    "require_gpu": [R("require_gpu", "yes", "wrong type"), OK("require_gpu", True)],
    "experiments.*.episode": [R(f"{D10}.episode", 9, "is not one of"), OK(f"{D10}.episode", None)],
    "experiments.*.grid.*": [
        R(f"{D10}.grid.seed", [], "should be non-empty"),
        OK("experiments.dense10_normalized.grid.seed", [1, 2]),
    ],
    "train_threads": [R("train_threads", 0, "less than the minimum of 1"), R("train_threads", 1.5, "wrong type")],
    "report_code": [R("report_code", "yes", "wrong type")],
    "datasets.*.kind": [R(f"{P}.kind", "csv", "is not one of"), R(f"{P}.kind", "weather", "is a required property")],
    "datasets.*.description": [OK(f"{P}.description", ""), R(f"{P}.description", 5, "wrong type")],
    "datasets.*.enabled": [R(f"{P}.enabled", "false", "(given with --config?"), OK(f"{P}.enabled", False)],
    "datasets.*.notebook": [
        R(f"{P}.notebook", "nope", "no notebooks/nope.ipynb"),
        R(f"{P}.notebook", "../x", "does not match"),
        OK(f"{P}.notebook", "table"),
    ],
    "datasets.*.files.[].name": [R(f"{P}.files.0.name", "a/b.csv", "does not match")],
    "datasets.*.files.[].url": [R(f"{P}.files.0.url", "", "should be non-empty")],
    "datasets.*.files.[].md5": [R(f"{P}.files.0.md5", "A" * 32, "does not match"), OK(f"{P}.files.0.md5", None)],
    "datasets.*.split.test_size": [
        R(f"{P}.split.test_size", 0, "less than or equal to the minimum of 0"),
        R(f"{P}.split.test_size", 1, "greater than or equal to the maximum of 1"),
        OK(f"{P}.split.test_size", 0.995, "table", "29 rows cannot be split with split.test_size 0.995"),
        OK(f"{P}.split.test_size", 0.5, "table"),
    ],
    "datasets.*.split.validation_size": [
        R(f"{P}.split.validation_size", 0.8, "leave no rows for training"),
        R(f"{P}.split.validation_size", 1, "greater than or equal to the maximum of 1"),
        OK(f"{P}.split.validation_size", 0.2, "table"),
    ],
    "datasets.*.split.random_state": [
        R(f"{P}.split.random_state", 2**32, "greater than the maximum"),
        OK(f"{P}.split.random_state", 2**32 - 1, "table"),
    ],
    "datasets.*.split.holdout_test_size": [
        R(f"{W}.split.holdout_test_size", 1, "greater than or equal to the maximum of 1"),
        OK(f"{W}.split.holdout_test_size", 0.999, "weather", "holdout_test_size 0.999 gives "),
    ],
    "datasets.*.target": [
        R(f"{P}.target", "", "should be non-empty"),
        R(f"{W}.target", "DATE", "calendar column"),
        OK(f"{P}.target", "nope", "table", "missing column(s) ['nope']"),
    ],
    "datasets.*.task": [
        R(f"{P}.task", "clustering", "is not one of"),
        R(f"{P}.task", "regression", "(regression); use mse", named=D10),
    ],
    "datasets.*.features": [
        R(f"{P}.features", [], "should be non-empty"),
        R(f"{P}.features", ["species"], "is the target"),
        OK(f"{P}.features", None, "table"),
        OK(f"{P}.features", {"drop": ["island", "sex"]}, "table"),
        OK(f"{P}.features", ["nope"], "table", "missing column(s) ['nope']"),
    ],
    "datasets.*.categorical": [
        R(f"{P}.categorical", ["island"], "are not feature columns"),
        OK(f"{P}.categorical", [], "table"),
    ],
    "datasets.*.missing": [
        R(f"{P}.missing", "keep", "is not one of"),
        OK(f"{P}.missing", "error", "table", "has a missing value in data row 4 (missing: error)"),
    ],
    "datasets.*.id_column": [R(f"{P}.id_column", "species", "is the target"), OK(f"{P}.id_column", "island", "table")],
    "datasets.*.separator": [
        R(f"{P}.separator", '"', "the quote character"),
        R(f"{P}.separator", ";;", "is too long"),
        OK(f"{P}.separator", ";", "table", "missing column(s) ['species']"),
    ],
    "datasets.*.views.*.description": [OK(f"{W}.views.3y.description", "")],
    "datasets.*.views.*.last_row": [
        R(f"{W}.views.3y.last_row", 0, "less than the minimum of 1"),
        OK(f"{W}.views.3y.last_row", 10**6, "weather", "last_row: 1000000 is out of range"),
        OK(f"{W}.views.3y.last_row", None, "weather"),
    ],
    "datasets.*.views.*.feature_prefixes": [
        R(f"{W}.views.3y.feature_prefixes", [""], "should be non-empty"),
        OK(f"{W}.views.3y.feature_prefixes", ["PARIS_"], "weather", "feature_prefixes: no column starts with"),
    ],
    "datasets.*.class_names": [
        R(f"{I}.class_names", ["a"], "is too short"),
        R(f"{I}.class_names", ["a", "a"], "non-unique"),
        OK(f"{I}.class_names", [f"c{i}" for i in range(9)], "images", "labels must lie in 0..8"),
    ],
    "datasets.*.format": [
        R(f"{I}.format", "zip", "is not one of"),
        R(f"{I}.format", "cifar10_python", "needs one file"),
    ],
    "datasets.*.subset.train": [
        R(f"{I}.subset.train", 0, "less than the minimum of 1"),
        OK(f"{I}.subset.train", 5, "images"),
        OK(f"{I}.subset.train", 10**6, "images", "subset.train asks for the first 1000000 images"),
    ],
    "datasets.*.subset.test": [
        R(f"{I}.subset.test", 0, "less than the minimum of 1"),
        OK(f"{I}.subset.test", 3, "images"),
    ],
    "datasets.*.path": [
        R(f"{IF}.path", "", "should be non-empty"),
        OK(f"{IF}.path", "/nonexistent/photos", "image_folder", "is neither a folder nor an archive"),
    ],
    "datasets.*.image_size": [
        R(f"{IF}.image_size", [4, 4], "less than the minimum of 8"),
        R(f"{IF}.image_size", [8], "is too short"),
        OK(f"{IF}.image_size", [8, 12], "image_folder"),
    ],
    "datasets.*.skip_unreadable": [
        R(f"{IF}.skip_unreadable", "yes", "wrong type"),
        OK(f"{IF}.skip_unreadable", True, "image_folder"),
    ],
    "experiments.*.dataset": [R(f"{D10}.dataset", "nope", "unknown dataset"), R(f"{D10}.dataset", "weather", "view")],
    "experiments.*.description": [OK(f"{D10}.description", "")],
    "experiments.*.enabled": [R(f"{D10}.enabled", "no", "wrong type")],
    "experiments.*.view": [
        R("experiments.dense_10_5.view", "nope", "unknown view"),
        OK("experiments.dense_10_5.view", "all", "weather"),
    ],
    "experiments.*.seed": [
        R(f"{D10}.seed", -1, "less than the minimum of 0"),
        R(f"{D10}.seed", 2**32, "greater than the maximum"),
        OK(f"{D10}.seed", 2**32 - 1, "table"),
    ],
    "experiments.*.repeats": [R(f"{D10}.repeats", 0, "less than the minimum of 1"), OK(f"{D10}.repeats", 3)],
    "experiments.*.sweep.arg": [
        R("experiments.dropout_sweep.sweep.arg", "nope", "is not an argument of builder"),
        R("experiments.dropout_sweep.sweep.arg", "filters", "value 0.2"),
    ],
    "experiments.*.sweep.values": [
        R("experiments.dropout_sweep.sweep.values", [], "should be non-empty"),
        R("experiments.dropout_sweep.sweep.values", [1.0], "greater than or equal to the maximum of 1"),
        OK("experiments.dropout_sweep.sweep.values", [0.5], "sweep"),
    ],
    "experiments.*.tuner.objective": [
        R(f"{TU}.tuner.objective", "val_acc", "is not one of"),
        OK(f"{TU}.tuner.objective", "val_accuracy", "tuner"),
    ],
    "experiments.*.tuner.max_trials": [
        R(f"{TU}.tuner.max_trials", 0, "less than the minimum of 1"),
        OK(f"{TU}.tuner.max_trials", 1, "tuner"),
    ],
    "experiments.*.tuner.hyperparameters.*.type": [
        R(f"{HP}.dropout.type", "grid", "is not one of"),
        R(f"{HP}.dropout.type", "choice", "'values' is a required"),
    ],
    "experiments.*.tuner.hyperparameters.*.min": [
        R(f"{HP}.conv_layers.min", 5, "min 5.0 is larger than max 2.0"),
        R(f"{HP}.conv_layers.min", 0.5, "type int needs integer min, max and step"),
        R(f"{HP}.conv_layers.min", -1, "less than the minimum of 0"),
        OK(f"{HP}.conv_layers.min", 0, "tuner"),
    ],
    "experiments.*.tuner.hyperparameters.*.max": [R(f"{HP}.dropout.max", 1.0, "greater than or equal to the maximum")],
    "experiments.*.tuner.hyperparameters.*.step": [
        R(f"{HP}.conv_layers.step", 0, "less than or equal to the minimum"),
        OK(f"{HP}.conv_layers.step", 10, "tuner"),
    ],
    "experiments.*.tuner.hyperparameters.*.values": [
        R("experiments.tuning_activation_kernel.tuner.hyperparameters.activation.values", [], "should be non-empty"),
        R(
            "experiments.tuning_activation_kernel.tuner.hyperparameters.activation.values",
            ["relu", 1],
            "mix int and str",
        ),
        R("experiments.tuning_activation_kernel.tuner.hyperparameters.activation.values", ["swish2"], "is not one of"),
    ],
    "experiments.*.base_model.name": [
        R(f"{TR}.base_model.name", "VGG16", "is not one of"),
        R(f"{TR}.base_model.name", "ResNet50", "None was expected"),
        OK(f"{TR}.base_model.name", "MobileNetV2", "transfer"),
    ],
    "experiments.*.base_model.weights": [
        R(f"{TR}.base_model.weights", "", "should be non-empty"),
        OK(f"{TR}.base_model.weights", "missing.weights.h5", "transfer", "weights file missing.weights.h5 not found"),
    ],
    "experiments.*.base_model.weights_include_top": [
        R(f"{TR}.base_model.weights_include_top", True, "applies to a local weights file only")
    ],
    "experiments.*.base_model.input_size": [
        R(f"{TR}.base_model.input_size", 31, "less than the minimum of 32"),
        OK(f"{TR}.base_model.input_size", 48, "transfer"),
    ],
    "experiments.*.base_model.alpha": [
        R(f"{TR}.base_model.alpha", 0, "less than or equal to the minimum of 0"),
        OK(f"{TR}.base_model.alpha", 0.3, "transfer"),
    ],
    "experiments.*.base_model.pooling": [
        R(f"{TR}.base_model.pooling", "min", "is not one of"),
        OK(f"{TR}.base_model.pooling", "avg", "transfer"),
    ],
    "experiments.*.base_model.preprocess": [
        R(f"{TR}.base_model.preprocess", "x", "is not one of"),
        OK(f"{TR}.base_model.preprocess", "base", "transfer"),
    ],
    "experiments.*.model.builder": [
        R(f"{D10}.model.builder", "rnn", "is not one of"),
        R(f"{D10}.model.builder", "cnn", "unknown key; allowed keys: activation, conv"),
    ],
    "experiments.*.model.args": [
        R(f"{D10}.model.args", {"foo": 1}, "unknown key"),
        OK(f"{D10}.model.args", {}, "table"),
    ],
    "experiments.*.model.args[dense].hidden_units": [
        R(f"{D10}.model.args.hidden_units", [0], "less than the minimum"),
        OK(f"{D10}.model.args.hidden_units", [], "table"),
    ],
    "experiments.*.model.args[dense].activation": [
        R(f"{D10}.model.args.activation", "swish2", "is not one of"),
        OK(f"{D10}.model.args.activation", "gelu", "table"),
    ],
    "experiments.*.model.args[dense].output_activation": [
        R(f"{D10}.model.args.output_activation", "sigmoid", "gives no class probabilities"),
        R(f"{D10}.model.args.output_activation", "tanh", "is not one of"),
        R("experiments.dense_10_5.model.args.output_activation", "softmax", "a regression's output is linear"),
    ],
    "experiments.*.model.args[dense].normalize": [OK(f"{D10}.model.args.normalize", True, "table")],
    "experiments.*.model.args[dense].batch_norm": [
        OK(f"{D10}.model.args.batch_norm", True, "table"),
        R(f"{D10}.model.args.batch_norm", "true", "wrong type"),
    ],
    "experiments.*.model.args[cnn].conv_layers": [
        R(f"{CNN}.model.args.conv_layers", -1, "less than the minimum of 0"),
        OK(f"{CNN}.model.args.conv_layers", 0, "images"),
        OK(f"{CNN}.model.args.conv_layers", 8, "images", "cannot build a model for inputs of shape (32, 32, 3)"),
    ],
    "experiments.*.model.args[cnn].filters": [
        R(f"{CNN}.model.args.filters", 0, "less than the minimum of 1"),
        OK(f"{CNN}.model.args.filters", 1, "images"),
    ],
    "experiments.*.model.args[cnn].kernel_size": [
        R(f"{CNN}.model.args.kernel_size", 0, "less than the minimum of 1"),
        OK(f"{CNN}.model.args.kernel_size", 40, "images", "cannot build a model for inputs of shape (32, 32, 3)"),
    ],
    "experiments.*.model.args[cnn].activation": [R(f"{CNN}.model.args.activation", "swish2", "is not one of")],
    "experiments.*.model.args[cnn].pooled_layers": [
        R(f"{CNN}.model.args.pooled_layers", -1, "less than the minimum"),
        OK(f"{CNN}.model.args.pooled_layers", 5, "images"),
    ],
    "experiments.*.model.args[cnn].dropout": [
        R(f"{CNN}.model.args.dropout", 1, "greater than or equal to the maximum"),
        OK(f"{CNN}.model.args.dropout", 0.5, "images"),
    ],
    "experiments.*.model.args[cnn].dropout_after": [R(f"{CNN}.model.args.dropout_after", "x", "is not one of")],
    "experiments.*.model.args[cnn].dense_units": [
        R(f"{CNN}.model.args.dense_units", [0], "less than the minimum"),
        OK(f"{CNN}.model.args.dense_units", [], "images"),
    ],
    "experiments.*.model.args[transfer_head].units": [
        R(f"{TR}.model.args.units", 0, "less than the minimum of 1"),
        OK(f"{TR}.model.args.units", 1, "transfer"),
    ],
    "experiments.*.model.args[transfer_head].dropout": [
        R(f"{TR}.model.args.dropout", 1, "greater than or equal to"),
        OK(f"{TR}.model.args.dropout", 0.0, "transfer"),
    ],
    "experiments.*.training.epochs": [
        R(f"{D10}.training.epochs", 0, "less than the minimum of 1"),
        OK(f"{D10}.training.epochs", 1, "table"),
    ],
    "experiments.*.training.batch_size": [
        R(f"{D10}.training.batch_size", 0, "less than the minimum of 1"),
        OK(f"{D10}.training.batch_size", 100000, "table"),
    ],
    "experiments.*.training.optimizer": [
        R(f"{D10}.training.optimizer", "nadam", "is not one of"),
        OK(f"{D10}.training.optimizer", "sgd", "table"),
        OK(f"{D10}.training.optimizer", "rmsprop", "table"),
    ],
    "experiments.*.training.learning_rate": [
        R(f"{D10}.training.learning_rate", 0, "less than or equal to the minimum of 0"),
        OK(f"{D10}.training.learning_rate", 1e20, "table", "training loss became nan in epoch "),
    ],
    "experiments.*.training.loss": [
        R(f"{D10}.training.loss", "mse", "one-hot encoded targets"),
        R(f"{D10}.training.loss", "hinge", "is not one of"),
    ],
    "experiments.*.training.from_logits": [
        R(f"{D10}.training.from_logits", True, "gives no class probabilities"),
        R(f"{CNN}.training.from_logits", False, "ends in logits"),
    ],
    "experiments.*.training.metrics": [
        R(f"{D10}.training.metrics", ["accuracy", "accuracy"], "non-unique"),
        R(f"{D10}.training.metrics", ["rmse"], "apply to regressions"),
        OK(f"{D10}.training.metrics", [], "table"),
    ],
    "experiments.*.training.validation": [
        R(f"{D10}.training.validation", "train", "is not one of"),
        R(f"{D10}.training.validation", "val", "needs a validation split"),
        OK(f"{D10}.training.validation", None, "table"),
    ],
    "experiments.*.training.early_stopping.monitor": [
        R(f"{ES}.training.early_stopping.monitor", "val_acc", "is never logged"),
        OK(f"{ES}.training.early_stopping.monitor", "val_rmse", "weather"),
    ],
    "experiments.*.training.early_stopping.patience": [
        R(f"{ES}.training.early_stopping.patience", -1, "less than the minimum of 0"),
        OK(f"{ES}.training.early_stopping.patience", 0, "weather"),
    ],
    "experiments.*.training.early_stopping.min_delta": [
        R(f"{ES}.training.early_stopping.min_delta", -1, "less than the minimum of 0"),
        OK(f"{ES}.training.early_stopping.min_delta", 1e9, "weather"),
    ],
    "experiments.*.training.early_stopping.restore_best_weights": [
        OK(f"{ES}.training.early_stopping.restore_best_weights", True, "weather")
    ],
    "experiments.*.training.tensorboard": [
        OK(f"{D10}.training.tensorboard", True, "table"),
        OK(f"{CNN}.training.tensorboard", True, "images"),
    ],
    "experiments.*.training.tensorboard_histograms": [
        R(f"{D10}.training.tensorboard_histograms", -1, "less than the minimum of 0"),
        R(f"{D10}.training.tensorboard_histograms", 1, "needs tensorboard: true"),
    ],
    "predict.*.experiment": [
        R(f"{NEW}.experiment", "nope", "unknown experiment"),
        R(f"{NEW}.experiment", "dropout_sweep", "is a grid"),
        R(f"{NEW}.experiment", "dense_10_5", "weather experiments"),
    ],
    "predict.*.url": [R(f"{NEW}.url", "", "should be non-empty"), OK(f"{NEW}.url", "new.csv", "table")],
    "predict.*.md5": [R(f"{NEW}.md5", "xyz", "does not match")],
    "predict.*.path": [R(f"{NEW}.path", "photos", "give exactly one of ['url', 'path']")],
}


def base_overlay(root: Path) -> dict:
    """The default config plus what the edges need: an image folder, a predict entry, a small transfer base."""
    return {
        "datasets": {"photos": {"kind": "image_folder", "path": str(root / "photos"), "image_size": [16, 16]}},
        "experiments": {
            "small": {
                "dataset": "photos",
                "model": {"builder": "cnn", "args": {"conv_layers": 1, "dense_units": [4]}},
                "training": {"epochs": 1},
            },
            "transfer": {"base_model": {"name": "MobileNet", "alpha": 0.25, "input_size": 32, "weights": None}},
        },
        "predict": {"new_penguins": {"experiment": "dense10", "url": "new.csv"}},
    }


def set_key(config: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = copy.deepcopy(value)
    else:
        node[last] = copy.deepcopy(value)


def edge_config(root: Path, edge: Edge) -> dict:
    config = default_config()
    merge(config, base_overlay(root))
    set_key(config, edge.key, edge.value)
    return config


ALL_EDGES = [
    pytest.param(field, edge, id=f"{edge.key}={edge.value!r}"[:80]) for field, edges in EDGES.items() for edge in edges
]


def test_every_schema_field_has_edge_values():
    fields = schema_fields()
    assert len(fields) > 80  # the walk found the nested settings (builder arguments, views, hyperparameters)
    missing = [f for f in fields if f not in EDGES]
    assert not missing, f"schema fields without edge values in EDGES: {missing}"
    assert not sorted(set(EDGES) - set(fields)), "EDGES names fields the schema no longer has"


def test_the_base_of_the_edges_is_a_valid_plan(tmp_path):
    config = default_config()
    merge(config, base_overlay(tmp_path))
    plan.load(config)


@pytest.mark.parametrize("field, edge", [p for p in ALL_EDGES if p.values[1].refused])
def test_refused_edge_values_name_their_key_when_the_plan_is_made(tmp_path, field, edge):
    with pytest.raises(plan.PlanError) as info:
        plan.load(edge_config(tmp_path, edge))
    # the setting, or the dataset / experiment / entry it belongs to
    owner = edge.named or ".".join(edge.key.split(".")[:2])
    named = [p for p in info.value.problems if edge.refused in p and p.startswith(f"config key {owner}")]
    assert named, f"{edge.key}={edge.value!r}: expected {edge.refused!r} naming {owner}, got {info.value.problems}"


# ------------------------------------------------------------------ run time: the step that consumes the value


def write_penguins(path: str | Path) -> None:
    rng = np.random.default_rng(0)
    n = 30
    frame = pd.DataFrame(
        {
            "species": [("Adelie", "Chinstrap", "Gentoo")[i % 3] for i in range(n)],
            "island": [("Biscoe", "Dream")[i % 2] for i in range(n)],
            "bill_length_mm": rng.uniform(35, 50, n).round(1),
            "bill_depth_mm": rng.uniform(13, 20, n).round(1),
            "flipper_length_mm": rng.uniform(180, 230, n).round(0),
            "body_mass_g": rng.uniform(3000, 6000, n).round(0),
            "sex": [("male", "female")[i % 2] for i in range(n)],
            "year": 2007,
        }
    )
    frame.loc[3, "body_mass_g"] = np.nan  # one incomplete row: dropped, or refused with missing: error
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def write_weather(path: str | Path, n: int = 1100) -> None:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2000-01-01", periods=n, freq="D")
    frame = pd.DataFrame(
        {
            "DATE": dates.strftime("%Y%m%d").astype(int),
            "MONTH": dates.month,
            "BASEL_sunshine": rng.uniform(0, 10, n).round(1),
            "BASEL_temp_mean": rng.uniform(0, 20, n).round(1),
            "DE_BILT_temp": rng.normal(10, 4, n),
        }
    )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def write_images(files: list[str]) -> None:
    rng = np.random.default_rng(0)
    for path in files:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        n = 20 if "train" in Path(path).name else 10
        array = (
            rng.integers(0, 255, (n, 32, 32, 3), dtype=np.uint8) if "images" in Path(path).name else np.arange(n) % 10
        )
        np.save(path, array)


def write_photos(root: Path) -> None:
    from PIL import Image

    for label, colour in (("cat", (200, 10, 10)), ("dog", (10, 10, 200))):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(4):
            Image.new("RGB", (12, 10), tuple(c + 5 * i for c in colour)).save(root / label / f"{i}.png")


def one_epoch(settings: dict, edge: Edge) -> dict:
    settings = copy.deepcopy(settings)
    if not edge.key.endswith("training.epochs"):
        settings["training"]["epochs"] = 5 if edge.key.endswith("learning_rate") else 1  # NaN needs an update
    if settings.get("tuner") is not None and not edge.key.endswith("max_trials"):
        settings["tuner"]["max_trials"] = 1
    return settings


def run_table(p, edge: Edge, name: str = "dense10") -> None:
    from dlwf.steps import predict, tabular
    from dlwf.steps import tables as table_steps

    exp = p.experiments[name]
    raw = p.raw_file(exp.dataset)
    write_penguins(raw)
    d = f"results/{exp.dataset}"
    table_steps.prepare(
        raw, **p.table_settings(exp.dataset), prepared_out=f"{d}/prepared.csv", info_out=f"{d}/prepared.json"
    )
    split = p.split_files(name)
    val = f"{d}/split/val.csv" if p.datasets[exp.dataset].spec["split"]["validation_size"] else None
    table_steps.split(
        f"{d}/prepared.csv",
        f"{d}/prepared.json",
        **p.table_split(exp.dataset),
        train_out=split["train"],
        test_out=split["test"],
        columns_out=split["columns"],
        val_out=val,
        where=f"datasets.{exp.dataset}",
    )
    settings = one_epoch(p.settings(name), edge)
    out = f"{d}/{name}"
    tabular.train(
        name,
        settings,
        split["train"],
        split["columns"],
        f"{out}/model.keras",
        f"{out}/history.csv",
        f"{out}/outputs.npz",
        split["test"],
        validation_csv=split.get("validation"),
        tensorboard_dir=f"{out}/tensorboard" if settings["training"]["tensorboard"] else None,
    )
    tabular.evaluate(
        name,
        settings,
        f"{out}/model.keras",
        f"{out}/outputs.npz",
        f"{out}/history.csv",
        split,
        [raw],
        f"{out}/metrics.json",
        f"{out}/predictions.csv",
        f"{out}/confusion_matrix.csv",
    )
    for entry in p.prediction_entries():
        if p.config["predict"][entry]["experiment"] == name:
            new = pd.read_csv(split["test"]).drop(columns=["species"])
            new.to_csv(p.config["predict"][entry]["url"], index=False)
            predict.predict_table(
                settings,
                f"{out}/model.keras",
                split["columns"],
                p.config["predict"][entry]["url"],
                f"{out}/predictions/{entry}.csv",
            )


def run_weather(p, edge: Edge) -> None:
    from dlwf.steps import tabular
    from dlwf.steps import weather as weather_steps

    name = "dense_100_50_earlystop" if ".early_stopping." in edge.key else "dense_10_5"
    exp = p.experiments[name]
    raw = p.raw_file(exp.dataset)
    write_weather(raw)
    view = f"results/{exp.dataset}/views/{exp.view}.csv"
    weather_steps.prepare_view(
        raw, **p.weather_view(exp.dataset, exp.view), view_out=view, where=f"datasets.{exp.dataset}.views.{exp.view}"
    )
    split = p.split_files(name)
    directory = Path(split["train"]).parent
    weather_steps.split(
        view,
        p.target(exp.dataset),
        **p.weather_split(exp.dataset),
        train_out=split["train"],
        val_out=str(directory / "val.csv"),
        test_out=split["test"],
        columns_out=split["columns"],
        where=f"datasets.{exp.dataset}.split",
    )
    settings = one_epoch(p.settings(name), edge)
    settings["training"]["epochs"] = 3  # so early stopping can act
    out = f"results/{exp.dataset}/{name}"
    tabular.train(
        name,
        settings,
        split["train"],
        split["columns"],
        f"{out}/model.keras",
        f"{out}/history.csv",
        f"{out}/outputs.npz",
        split["test"],
        validation_csv=split.get("validation"),
    )
    tabular.evaluate(
        name,
        settings,
        f"{out}/model.keras",
        f"{out}/outputs.npz",
        f"{out}/history.csv",
        split,
        [raw],
        f"{out}/metrics.json",
        f"{out}/predictions.csv",
    )


def prepare_images(p, dataset: str = "dollar_street") -> str:
    from dlwf.steps import images as image_steps

    raw = p.raw_files(dataset)
    write_images(raw)
    prepared = f"results/{dataset}/prepared"
    image_steps.prepare(raw, **p.image_dataset(dataset), prepared_dir=prepared, where=f"datasets.{dataset}")
    return prepared


def run_images(p, edge: Edge, name: str = "cnn_pool") -> None:
    from dlwf.steps import images as image_steps

    prepared = prepare_images(p)
    settings = one_epoch(p.settings(name), edge)
    out = f"results/dollar_street/{name}"
    image_steps.train(
        name,
        settings,
        prepared,
        f"{out}/model.keras",
        f"{out}/history.csv",
        f"{out}/outputs.npz",
        tensorboard_dir=f"{out}/tensorboard" if settings["training"]["tensorboard"] else None,
    )
    image_steps.evaluate(
        name,
        settings,
        f"{out}/model.keras",
        f"{out}/outputs.npz",
        f"{out}/history.csv",
        prepared,
        p.raw_files("dollar_street"),
        f"{out}/metrics.json",
        f"{out}/predictions.csv",
        f"{out}/confusion.csv",
    )


def run_image_folder(p, edge: Edge) -> None:
    from dlwf.steps import images as image_steps

    spec = p.datasets["photos"].spec
    if not spec["path"].startswith("/nonexistent"):
        write_photos(Path(spec["path"]))
    prepared = "results/photos/prepared"
    image_steps.prepare_folder(
        spec["path"],
        **{k: v for k, v in p.image_folder_settings("photos").items()},
        prepared_dir=prepared,
        where="datasets.photos",
    )
    settings = one_epoch(p.settings("small"), edge)
    image_steps.train(
        "small",
        settings,
        prepared,
        "results/photos/small/model.keras",
        "results/photos/small/history.csv",
        "results/photos/small/outputs.npz",
    )


def run_tuner(p, edge: Edge) -> None:
    from dlwf.nn import resume
    from dlwf.steps import images as image_steps

    prepared = prepare_images(p)
    settings = one_epoch(p.settings("tuning"), edge)
    out = "results/dollar_street/tuning"
    backup = resume.Job(Path(out) / ".backup", {"edge": edge.key, "value": repr(edge.value)})
    image_steps.tune(
        "tuning",
        settings,
        prepared,
        backup,
        f"{out}/model.keras",
        f"{out}/history.csv",
        f"{out}/trials.csv",
        f"{out}/trials_history.csv",
        f"{out}/outputs.npz",
    )


def run_sweep(p, edge: Edge) -> None:
    from dlwf.steps import images as image_steps

    prepared = prepare_images(p)
    point = p.grid_points("dropout_sweep")[0]  # a sweep's points are experiments of their own
    settings = one_epoch(p.settings(point.id), edge)
    out = f"results/dollar_street/{point.id}"
    image_steps.train(point.id, settings, prepared, f"{out}/model.keras", f"{out}/history.csv", f"{out}/outputs.npz")


def run_transfer(p, edge: Edge) -> None:
    from dlwf.plan import layout
    from dlwf.steps import transfer

    prepared = prepare_images(p)
    exp = p.experiments["transfer"]
    cached = layout.features(exp)
    transfer.features(
        exp.base_model,
        prepared,
        cached["extractor"],
        {"train": cached["train"], "test": cached["test"]},
        cached["base"],
        where="experiments.transfer.base_model",
    )
    settings = one_epoch(p.settings("transfer"), edge)
    transfer.train_head(
        "transfer",
        settings,
        prepared,
        cached["train"],
        cached["test"],
        "results/dollar_street/transfer/head.keras",
        "results/dollar_street/transfer/history.csv",
    )


RUNNERS = {
    "table": run_table,
    "weather": run_weather,
    "images": run_images,
    "image_folder": run_image_folder,
    "tuner": run_tuner,
    "sweep": run_sweep,
    "transfer": run_transfer,
}


@pytest.mark.parametrize("field, edge", [p for p in ALL_EDGES if not p.values[1].refused])
def test_accepted_edge_values_run_or_fail_naming_the_setting(tmp_path, monkeypatch, field, edge):
    monkeypatch.chdir(tmp_path)
    p = plan.load(edge_config(tmp_path, edge))
    if edge.run is None:
        return
    if edge.fails is None:
        RUNNERS[edge.run](p, edge)
        return
    with pytest.raises(USER_ERRORS) as info:
        RUNNERS[edge.run](p, edge)
    assert edge.fails in str(info.value), str(info.value)


def test_edge_runs_cover_every_runner():
    assert {e.run for edges in EDGES.values() for e in edges if e.run} == set(RUNNERS)
