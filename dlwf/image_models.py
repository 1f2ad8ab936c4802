"""Episode 4's image classifiers, registered in :data:`dlwf.models.BUILDERS`.

Import this module before calling :func:`dlwf.models.build_model` for an image experiment
(``dlwf.image_experiment`` and ``dlwf.tuning`` do).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from .errors import WorkflowInputError
from .models import register

DROPOUT_PLACEMENTS = ("last_block", "every_block")


@register("cnn")
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
    name: str = "cnn",
) -> keras.Model:
    """Return the lesson's convolutional net with ``n_outputs`` logits.

    ``conv_layers`` blocks of Conv2D(filters, kernel_size, activation), the first
    ``pooled_layers`` of them (all when None) followed by MaxPooling2D(2, 2); then Dropout
    (after the last block, or after every block when ``dropout_after='every_block'``, as in
    the lesson's dropout sweep), Flatten, Dense(units, activation) per ``dense_units`` and a
    linear Dense(n_outputs). ``conv_layers=0`` gives the lesson's dense-only comparison.
    """
    if conv_layers < 0:
        raise WorkflowInputError(f"builder 'cnn': conv_layers must be >= 0, got {conv_layers}")
    if not 0.0 <= dropout < 1.0:
        raise WorkflowInputError(f"builder 'cnn': dropout must be in [0, 1), got {dropout}")
    if dropout_after not in DROPOUT_PLACEMENTS:
        raise WorkflowInputError(
            f"builder 'cnn': dropout_after must be one of {list(DROPOUT_PLACEMENTS)}, got {dropout_after!r}"
        )
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
    return keras.Model(inputs=inputs, outputs=outputs, name=name)
