"""The ``base_model`` block of a transfer experiment: defaults, checks, ids (no TensorFlow).

Read at parse time by rules/common.smk (checks and the features directory's id) and by
:mod:`dlwf.transfer`, which builds the models; see its docstring for what each key means.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import WorkflowInputError
from .provenance import config_hash

RANDOM_INIT_SEED = 0  # a base with weights: null is the same random base in every process


@dataclass(frozen=True)
class Architecture:
    constructor: str  # function name in keras.applications
    preprocessing: str  # mode of its preprocess_input in keras' imagenet_utils: tf, torch or caffe
    has_alpha: bool


ARCHITECTURES = {
    "DenseNet121": Architecture("DenseNet121", "torch", has_alpha=False),
    "MobileNet": Architecture("MobileNet", "tf", has_alpha=True),
    "MobileNetV2": Architecture("MobileNetV2", "tf", has_alpha=True),
    "ResNet50": Architecture("ResNet50", "caffe", has_alpha=False),
}
DEFAULTS = {
    "name": "DenseNet121",
    "weights": "imagenet",
    "weights_include_top": False,
    "input_size": 160,
    "alpha": None,
    "pooling": "max",
    "preprocess": "base",
}


def base_config(spec: dict | None, where: str = "base_model") -> dict:
    """Return the base model block with defaults filled in; raise naming ``where`` on bad values."""
    config = {**DEFAULTS, **(spec or {})}
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise WorkflowInputError(f"config key {where}: unknown key(s) {unknown}; allowed: {sorted(DEFAULTS)}")
    if config["name"] not in ARCHITECTURES:
        raise WorkflowInputError(
            f"config key {where}.name: unknown base model {config['name']!r}; known: {sorted(ARCHITECTURES)}"
        )
    if config["alpha"] is not None and not ARCHITECTURES[config["name"]].has_alpha:
        raise WorkflowInputError(
            f"config key {where}.alpha: {config['name']} has no width multiplier; alpha applies to "
            "MobileNet and MobileNetV2 only (set it to null)"
        )
    if not isinstance(config["input_size"], int) or config["input_size"] < 32:
        raise WorkflowInputError(
            f"config key {where}.input_size: must be an integer >= 32, got {config['input_size']!r}"
        )
    if config["pooling"] not in ("max", "avg"):
        raise WorkflowInputError(
            f"config key {where}.pooling: must be 'max' or 'avg', got {config['pooling']!r}"
        )
    if config["preprocess"] not in ("base", "none"):
        raise WorkflowInputError(
            f"config key {where}.preprocess: must be 'base' or 'none', got {config['preprocess']!r}"
        )
    if config["weights_include_top"] and weights_path(config) is None:
        raise WorkflowInputError(
            f"config key {where}.weights_include_top: applies to a local weights file only, but weights is "
            f"{config['weights']!r}"
        )
    return config


def weights_path(config: dict) -> str | None:
    """Return the local weights file named by the config (None for 'imagenet' and random init)."""
    weights = config["weights"]
    return None if weights in (None, "imagenet") else str(weights)


def base_id(config: dict) -> str:
    """Return the directory name of a base configuration's features: '<name>_<hash of the block>'."""
    return f"{config['name']}_{config_hash(config)[:8]}"


def describe_weights(config: dict) -> str:
    """Return where the base's weights come from, in words (for base.json and metrics.json)."""
    if config["weights"] is None:
        return f"random initialisation (seed {RANDOM_INIT_SEED}), NOT pretrained"
    if config["weights"] == "imagenet":
        return "ImageNet weights from Keras (keras.applications download cache)"
    kind = "full model with its top (cut off here)" if config["weights_include_top"] else "weights file"
    return f"local {kind}: {config['weights']}"
