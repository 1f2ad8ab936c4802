"""Model builders, compile/fit settings and training guards."""

import numpy as np
import pandas as pd
import pytest

from dlwf.core import runtime

runtime.configure_tensorflow(1)

import keras  # noqa: E402

from dlwf.core.errors import TrainingError, WorkflowInputError  # noqa: E402
from dlwf.nn import training  # noqa: E402
from dlwf.nn.builders import BUILDERS, build_model  # noqa: E402
from dlwf.plan.config import load_schema  # noqa: E402
from tests.workflow import experiment_settings  # noqa: E402


@pytest.fixture(autouse=True)
def seeded():
    # op determinism is on (as in the workflow): random ops need a seed
    keras.utils.set_random_seed(0)


def training_settings(**changes) -> dict:
    """Complete training settings (schema defaults filled in) with ``changes``: of the penguins
    classifier, or of a weather regressor when the loss is mse."""
    experiment = "dense_100_50" if changes.get("loss") == "mse" else "dense10"
    return experiment_settings(experiment, {"training": changes})["training"]


PENGUIN_TRAINING = training_settings(epochs=2)


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_builder_defaults_equal_the_schemas(builder):
    """config/schema.yaml is the one source of defaults; the builders' own must not drift from it."""
    import inspect

    schema = load_schema()["$defs"][f"{builder}_args"]["properties"]
    parameters = inspect.signature(BUILDERS[builder]).parameters
    data_args = ("input_shape", "n_outputs", "adapt_data", "vocabularies")  # from the data, not the config
    own = {name: p.default for name, p in parameters.items() if name not in data_args}
    assert set(own) == set(schema), f"{builder}: arguments differ from $defs.{builder}_args"
    for name, default in own.items():
        expected = schema[name].get("default")
        assert (list(default) if isinstance(default, tuple) else default) == expected, f"{builder}.{name}"


def test_every_activation_the_schema_allows_is_a_keras_activation():
    schema = load_schema()["$defs"]
    names = schema["activation"]["enum"] + [
        a for a in schema["dense_args"]["properties"]["output_activation"]["enum"] if a is not None
    ]
    for name in names:
        assert callable(keras.activations.get(name)), name


def test_lesson_penguin_net_has_83_parameters():
    model = build_model("dense", (4,), 3, {"hidden_units": [10], "output_activation": "softmax"})
    assert model.count_params() == 83
    assert model.layers[-1].activation.__name__ == "softmax"


def test_normalize_adapts_on_given_data_only():
    data = np.array([[0.0, 10.0], [2.0, 30.0]], dtype="float32")
    model = build_model("dense", (2,), 1, {"hidden_units": [3], "normalize": True}, adapt_data=data)
    norm = model.get_layer("standardize")
    np.testing.assert_allclose(norm(data).numpy().mean(axis=0), [0, 0], atol=1e-6)


def test_unknown_builder_and_argument_name_the_config_key():
    with pytest.raises(WorkflowInputError, match=r"experiments.x.model.builder: unknown builder 'nope'"):
        build_model("nope", (4,), 3, where="experiments.x.model")
    with pytest.raises(WorkflowInputError, match=r"experiments.x.model.args: unknown argument\(s\) \['units'\]"):
        build_model("dense", (4,), 3, {"units": 3}, where="experiments.x.model")


def test_fit_returns_one_history_row_per_epoch_with_val_metrics():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 20), 3).astype("float32")
    model = training.compile_model(build_model("dense", (4,), 3, {"output_activation": "softmax"}), PENGUIN_TRAINING)
    history = training.fit(model, x, y, PENGUIN_TRAINING, validation=(x, y))
    assert list(history["epoch"]) == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.columns)


def test_early_stopping_stops_early():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = rng.normal(size=(40, 1)).astype("float32")
    settings = training_settings(
        epochs=200,
        loss="mse",
        metrics=["rmse"],
        learning_rate=0.5,
        early_stopping={"monitor": "val_loss", "patience": 1},
    )
    model = training.compile_model(build_model("dense", (3,), 1, {"hidden_units": [4]}), settings)
    history = training.fit(model, x, y, settings, validation=(x[:5], y[:5]))
    assert len(history) < 200
    assert "rmse" in history and "val_rmse" in history


def test_nan_loss_stops_training_with_message():
    x = np.array([[1e38, 1e38]] * 8, dtype="float32")
    y = np.ones((8, 1), dtype="float32")
    settings = training_settings(epochs=5, loss="mse", metrics=[], learning_rate=1e10)
    model = training.compile_model(build_model("dense", (2,), 1, {"hidden_units": [4]}), settings)
    with pytest.raises(TrainingError, match="loss became .* no model was kept"):
        training.fit(model, x, y, settings)


def test_check_finite_accepts_finite_history():
    training.check_finite(pd.DataFrame({"loss": [1.0, 0.5]}))
