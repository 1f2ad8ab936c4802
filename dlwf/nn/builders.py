"""The lesson's model builders, looked up by the name in an experiment's ``model.builder``.

A builder takes the input shape, the number of outputs and its own keyword arguments
(``model.args``) and returns an uncompiled ``keras.Model`` built from standard layers only, so
every saved model loads in Keras safe mode. The arguments, their types and their defaults are
declared in ``config/schema.yaml`` (``$defs.<builder>_args``); the defaults below are the same
(a unit test fails when they drift) so the builders also work as plain functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import keras
import numpy as np

from dlwf.core.errors import WorkflowInputError


def dense(
    input_shape: Sequence[int],
    n_outputs: int,
    hidden_units: Sequence[int] = (10,),
    activation: str = "relu",
    output_activation: str | None = None,
    normalize: bool = False,
    batch_norm: bool = False,
    adapt_data: np.ndarray | None = None,
    vocabularies: dict[str, list[str]] | None = None,
) -> keras.Model:
    """Return a fully connected net: [Normalization | BatchNorm] -> Dense(hidden...) -> Dense(n_outputs).

    Episode 2's penguin classifier is ``hidden_units=[10], output_activation='softmax'``;
    episode 3's sunshine regressors are ``[100, 50]`` / ``[10, 5]`` with a linear output.
    The numeric features come as one input ``features`` of ``input_shape`` (k,). ``normalize``
    standardises them with a Normalization layer adapted on ``adapt_data`` (the training
    features only, (N, k)); ``batch_norm`` puts a BatchNormalization layer on the inputs, as in
    episode 3. ``vocabularies`` (input name -> categories, from the training data) adds one
    string input (N, 1) per categorical column, one-hot encoded by a StringLookup layer inside
    the model (unseen categories share one extra slot), so the saved model takes raw rows.
    """
    inputs, parts = {}, []
    if not vocabularies or input_shape[0]:
        x = inputs["features"] = keras.Input(shape=tuple(input_shape), name="features")
        if normalize:
            if adapt_data is None:
                raise WorkflowInputError("builder 'dense' with normalize: true needs the training data to adapt on")
            norm = keras.layers.Normalization(name="standardize")
            norm.adapt(adapt_data)
            x = norm(x)
        parts.append(x)
    for name, vocabulary in (vocabularies or {}).items():
        inputs[name] = keras.Input(shape=(1,), dtype="string", name=name)
        lookup = keras.layers.StringLookup(vocabulary=list(vocabulary), output_mode="one_hot", name=f"{name}_onehot")
        parts.append(lookup(inputs[name]))
    x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="all_features")(parts)
    if batch_norm:
        x = keras.layers.BatchNormalization(name="input_batchnorm")(x)
    for i, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(x)
    outputs = keras.layers.Dense(n_outputs, activation=output_activation, name="output")(x)
    model_inputs = inputs["features"] if list(inputs) == ["features"] else inputs
    return keras.Model(inputs=model_inputs, outputs=outputs, name="dense_net")


def cnn(
    input_shape: Sequence[int],
    n_outputs: int,
    conv_layers: int = 2,
    filters: int = 50,
    kernel_size: int = 3,
    activation: str = "relu",
    pooled_layers: int | None = None,
    dropout: float = 0.0,
    dropout_after: str = "last_block",
    dense_units: Sequence[int] = (50,),
) -> keras.Model:
    """Return episode 4's convolutional net with ``n_outputs`` logits, for images (H, W, 3) in [0, 1].

    ``conv_layers`` blocks of Conv2D(filters, kernel_size, activation), the first
    ``pooled_layers`` of them (all when None) followed by MaxPooling2D(2, 2); then Dropout
    (after the last block, or after every block when ``dropout_after='every_block'``, as in
    the lesson's dropout sweep), Flatten, Dense(units, activation) per ``dense_units`` and a
    linear Dense(n_outputs). ``conv_layers=0`` gives the lesson's dense-only comparison.
    """
    pooled_layers = conv_layers if pooled_layers is None else pooled_layers
    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x = inputs
    for i in range(1, conv_layers + 1):
        x = keras.layers.Conv2D(filters, (kernel_size, kernel_size), activation=activation, name=f"conv_{i}")(x)
        if i <= pooled_layers:
            x = keras.layers.MaxPooling2D((2, 2), name=f"pool_{i}")(x)
        if dropout and dropout_after == "every_block":
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    if dropout and (dropout_after == "last_block" or conv_layers == 0):
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, units in enumerate(dense_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(x)
    outputs = keras.layers.Dense(n_outputs, name="logits")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="cnn")


def transfer_head(input_shape: Sequence[int], n_outputs: int, units: int = 50, dropout: float = 0.5) -> keras.Model:
    """Return episode 5's head on the frozen base's features (D,): Flatten -> BatchNormalization ->
    Dense(units, relu) -> Dropout -> Dense(n_outputs) logits."""
    inputs = keras.Input(shape=tuple(input_shape), name="features")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.BatchNormalization(name="batchnorm")(x)
    x = keras.layers.Dense(units, activation="relu", name="hidden")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_outputs, name="logits")(x)
    return keras.Model(inputs, outputs, name="head")


BUILDERS: dict[str, Callable[..., keras.Model]] = {"dense": dense, "cnn": cnn, "transfer_head": transfer_head}


def build_model(
    builder: str,
    input_shape: Sequence[int],
    n_outputs: int,
    args: dict | None = None,
    adapt_data: np.ndarray | None = None,
    where: str = "model",
    vocabularies: dict[str, list[str]] | None = None,
) -> keras.Model:
    """Return the model made by ``BUILDERS[builder]``; unknown names or arguments raise naming ``where``.

    ``adapt_data`` and ``vocabularies`` come from the training data and go to builders that take them.
    """
    if builder not in BUILDERS:
        raise WorkflowInputError(f"{where}.builder: unknown builder {builder!r}; known: {sorted(BUILDERS)}")
    func = BUILDERS[builder]
    data_args = {"adapt_data": adapt_data, "vocabularies": vocabularies}
    accepted = set(inspect.signature(func).parameters) - {"input_shape", "n_outputs", *data_args}
    args = dict(args or {})
    unknown = sorted(set(args) - accepted)
    if unknown:
        raise WorkflowInputError(
            f"{where}.args: unknown argument(s) {unknown} for builder {builder!r}; accepted: {sorted(accepted)}"
        )
    for name, value in data_args.items():
        if name in inspect.signature(func).parameters:
            args[name] = value
        elif name == "vocabularies" and value:
            raise WorkflowInputError(f"{where}.builder: {builder!r} cannot take categorical features; use 'dense'")
    try:
        return func(input_shape, n_outputs, **args)
    except ValueError as exc:  # Keras: a layer that cannot take its input (e.g. images too small for the kernels)
        detail = " ".join(str(exc).replace("\x1b[1m", "").replace("\x1b[0m", "").split())[:300]
        raise WorkflowInputError(
            f"{where}.args: builder {builder!r} cannot build a model for inputs of shape {tuple(input_shape)} with "
            f"{args_text(args)}: {detail}; use fewer or smaller layers (conv_layers, kernel_size) or larger inputs"
        ) from exc


def args_text(args: dict) -> str:
    """The builder arguments of a message, without the training data."""
    return str({k: v for k, v in args.items() if k not in ("adapt_data", "vocabularies")})
