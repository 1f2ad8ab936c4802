"""Model builders, looked up by the name given in an experiment's ``model.builder``.

A builder takes the input shape, the number of outputs and its own keyword arguments
(``model.args`` in the config) and returns an uncompiled ``keras.Model``. Builders that
need the training data (to adapt a Normalization layer) accept ``adapt_data``.
"""

from __future__ import annotations

import inspect
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np

from .errors import WorkflowInputError

BUILDERS: dict[str, Callable[..., keras.Model]] = {}


def register(name: str):
    """Return a decorator that registers a builder under ``name``."""

    def decorate(func):
        BUILDERS[name] = func
        return func

    return decorate


@register("dense")
def dense(
    input_shape: Sequence[int],
    n_outputs: int,
    hidden_units: Sequence[int] = (10,),
    activation: str = "relu",
    output_activation: str | None = None,
    normalize: bool = False,
    batch_norm: bool = False,
    adapt_data: np.ndarray | None = None,
    name: str = "dense_net",
) -> keras.Model:
    """Return a fully connected net: [Normalization | BatchNorm] -> Dense(hidden...) -> Dense(n_outputs).

    ``normalize`` standardises the inputs with a Normalization layer adapted on
    ``adapt_data`` (the training features only); ``batch_norm`` puts a
    BatchNormalization layer on the inputs, as in episode 3.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="features")
    x = inputs
    if normalize:
        if adapt_data is None:
            raise WorkflowInputError("builder 'dense' with normalize: true needs the training data to adapt on")
        norm = keras.layers.Normalization(name="standardize")
        norm.adapt(adapt_data)
        x = norm(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name="input_batchnorm")(x)
    for i, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(x)
    outputs = keras.layers.Dense(n_outputs, activation=output_activation, name="output")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def build_model(
    builder: str,
    input_shape: Sequence[int],
    n_outputs: int,
    args: dict | None = None,
    adapt_data: np.ndarray | None = None,
    where: str = "model",
) -> keras.Model:
    """Return the model made by the registered ``builder``; unknown names or arguments raise naming ``where``."""
    if builder not in BUILDERS:
        raise WorkflowInputError(f"{where}.builder: unknown builder {builder!r}; known: {sorted(BUILDERS)}")
    func = BUILDERS[builder]
    accepted = set(inspect.signature(func).parameters) - {"input_shape", "n_outputs", "adapt_data"}
    args = dict(args or {})
    unknown = sorted(set(args) - accepted)
    if unknown:
        raise WorkflowInputError(
            f"{where}.args: unknown argument(s) {unknown} for builder {builder!r}; accepted: {sorted(accepted)}"
        )
    if "adapt_data" in inspect.signature(func).parameters:
        args["adapt_data"] = adapt_data
    return func(input_shape, n_outputs, **args)


def load_model_checked(path, compile: bool = True) -> keras.Model:
    """Return the Keras model saved in the ``.keras`` file ``path``, loaded in safe mode.

    Keras' own errors for a file that is not a model are misleading (a text file named
    ``model.keras`` gives "File not found"), so every failure becomes a WorkflowInputError that
    names the file and the fix. Safe mode refuses layers that carry Python code (``Lambda``):
    loading them could run arbitrary code, so they are refused here too, never retried unsafely.
    """
    path = Path(path)
    fix = "delete it and run snakemake again so the rule that makes it trains the model anew"
    if not path.is_file():
        raise WorkflowInputError(f"{path}: model file not found; run the training rule that makes it first")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise WorkflowInputError(
            f"{path}: not a Keras model file (a .keras file is a zip archive written by model.save); "
            f"it is corrupt, truncated or was replaced: {fix}"
        )
    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises ValueError, KeyError, TypeError, OSError ...
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "safe_mode" in str(exc):
            raise WorkflowInputError(
                f"{path}: refused to load: the model holds Python code (e.g. a Lambda layer), which Keras safe "
                "mode does not load because it could run arbitrary code; build the model from standard layers "
                f"({text.split('. ')[0][:200]})"
            ) from exc
        raise WorkflowInputError(
            f"{path}: not a loadable Keras model ({type(exc).__name__}: {text[:300]}); {fix}"
        ) from exc
