"""The ``base_model`` block of a transfer experiment, without TensorFlow: ids and weights.

The block's keys and defaults are in ``config/schema.yaml`` (``$defs.base_model``); the plan
gets it with the defaults filled in. :mod:`dlwf.nn.transfer_base` builds the models from it.
It sits in ``core`` because the plan (ids, paths), the feature pass and the models all need it,
and the feature pass must not depend on the plan's code.
"""

from __future__ import annotations

from dlwf.core.provenance import config_hash

RANDOM_INIT_SEED = 0  # a base with weights: null is the same random base in every process


def weights_path(config: dict) -> str | None:
    """Return the local weights file named by the block (None for 'imagenet' and random init)."""
    weights = config["weights"]
    return None if weights in (None, "imagenet") else str(weights)


def base_id(config: dict) -> str:
    """Return the directory name of a base configuration's features: '<name>_<hash of the block>'.

    ``config`` is the block with defaults filled in, so spelling a default out changes nothing.
    """
    return f"{config['name']}_{config_hash(config)[:8]}"


def describe_weights(config: dict) -> str:
    """Return where the base's weights come from, in words (for base.json and metrics.json)."""
    if config["weights"] is None:
        return f"random initialisation (seed {RANDOM_INIT_SEED}), NOT pretrained"
    if config["weights"] == "imagenet":
        return "ImageNet weights from Keras (keras.applications download cache)"
    kind = "full model with its top (cut off here)" if config["weights_include_top"] else "weights file"
    return f"local {kind}: {config['weights']}"


def users(config: dict, dataset: str, base: str) -> list[str]:
    """Config keys of the base_model blocks (defaults filled in) on ``dataset`` whose id is ``base``."""
    return [
        f"experiments.{name}.base_model"
        for name, spec in config["experiments"].items()
        if spec.get("dataset") == dataset and spec.get("base_model") and base_id(spec["base_model"]) == base
    ]
