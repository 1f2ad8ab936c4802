"""Transfer learning (episode 5): the lesson's model, cached features, assembly, weights sources."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from dlwf import plan
from dlwf.core.base_model import base_id
from dlwf.core.errors import TrainingError, WorkflowInputError
from dlwf.data.images import FILES
from dlwf.nn import transfer_base as transfer
from dlwf.nn.builders import transfer_head
from dlwf.plan.config import load_schema
from dlwf.steps import transfer as steps
from tests.workflow import default_config

# a tiny randomly initialised base: MobileNet at its smallest width and input size
TINY_BASE = {"name": "MobileNet", "alpha": 0.25, "weights": None, "input_size": 32}


def config_with(block: dict, name: str = "transfer", **experiment) -> dict:
    config = default_config()
    config["experiments"][name] = {**config["experiments"]["transfer"], "base_model": block, **experiment}
    return config


def base_config(block: dict) -> dict:
    """The base_model block with the schema's defaults filled in, as the plan gives it to the rules."""
    return plan.load(config_with(block)).experiments["transfer"].base_model


def trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def lesson_model(image_shape):
    config = base_config({"name": "DenseNet121", "weights": None, "preprocess": "none"})
    extractor = transfer.build_extractor(config, image_shape)
    head = transfer_head(extractor.output_shape[1:], 10)
    return transfer.assemble(extractor, head)


def test_lesson_model_has_the_lessons_parameter_counts_and_no_lambda_layer():
    # DenseNet121 without weights builds in about 3 s here (no download): the lesson's numbers
    model = lesson_model((64, 64, 3))
    assert model.count_params() == 7_093_360
    assert trainable_count(model) == 53_808
    extractor = model.get_layer("feature_extractor")
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in extractor.layers)
    upscale = extractor.get_layer("upscale")
    assert isinstance(upscale, keras.layers.Resizing)
    assert upscale.get_config()["pad_to_aspect_ratio"] and upscale.get_config()["interpolation"] == "bilinear"
    assert upscale.output.shape == (None, 160, 160, 3)


def test_upscale_equals_the_lessons_resize_with_pad_on_square_images():
    import tensorflow as tf

    extractor = transfer.build_extractor(base_config({**TINY_BASE, "input_size": 40}), (16, 16, 3))
    upscale = keras.Model(extractor.inputs, extractor.get_layer("upscale").output)
    images = np.random.default_rng(0).random((2, 16, 16, 3)).astype(np.float32)
    expected = tf.image.resize_with_pad(images, 40, 40, method=tf.image.ResizeMethod.BILINEAR)
    assert np.allclose(np.asarray(upscale(images)), np.asarray(expected), atol=1e-6)


def test_upscale_pads_non_square_images_with_black():
    extractor = transfer.build_extractor(base_config({**TINY_BASE, "input_size": 40}), (10, 20, 3))
    upscale = keras.Model(extractor.inputs, extractor.get_layer("upscale").output)
    out = np.asarray(upscale(np.ones((1, 10, 20, 3), dtype=np.float32)))
    assert out.shape == (1, 40, 40, 3)
    # the 10x20 image fills the middle 20 of 40 rows (Keras pads before resizing, so one
    # border row on each side blends with the padding); the rest is black
    assert np.allclose(out[0, 11:29], 1.0) and np.allclose(out[0, :9], 0.0) and np.allclose(out[0, 31:], 0.0)


@pytest.mark.parametrize(
    "mode, module",
    [
        ("tf", keras.applications.mobilenet),
        ("torch", keras.applications.densenet),
        ("caffe", keras.applications.resnet50),
    ],
)
def test_preprocessing_layers_equal_keras_preprocess_input(mode, module):
    images = np.random.default_rng(0).random((2, 5, 5, 3)).astype(np.float32)
    layer = transfer.preprocessing_layer(mode)
    layer(images)
    if mode == "caffe":
        layer.set_weights(transfer.caffe_weights())
    expected = module.preprocess_input(images * 255.0)
    assert np.allclose(np.asarray(layer(images)), np.asarray(expected), atol=1e-4)


def write_prepared(directory, n_train=48, n_test=24, shape=(16, 16, 3), n_classes=3, seed=0):
    """Write a tiny prepared image dataset in the images kind's layout; return its class names."""
    rng = np.random.default_rng(seed)
    names = [f"class_{i}" for i in range(n_classes)]
    directory.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", n_train), ("test", n_test)):
        np.save(directory / FILES[part]["images"], rng.integers(0, 256, (n, *shape), dtype=np.uint8))
        np.save(directory / FILES[part]["labels"], rng.integers(0, n_classes, n).astype(np.int64))
    record = {
        "class_names": names,
        "n_classes": n_classes,
        "image_shape": list(shape),
        "counts": {"train": n_train, "test": n_test},
    }
    (directory / "classes.json").write_text(json.dumps(record))
    return names


SPEC = (
    plan.load(
        config_with(
            TINY_BASE,
            "tiny_exp",
            model={"builder": "transfer_head"},
            training={
                "epochs": 3,
                "batch_size": 8,
                "loss": "sparse_categorical_crossentropy",
                "from_logits": True,
                "metrics": ["accuracy"],
                "validation": "test",
                "early_stopping": {"monitor": "val_accuracy", "patience": 5},
            },
        )
    )
    .experiments["tiny_exp"]
    .settings()
)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """Run features -> head -> assembly -> evaluation on a tiny random base; return the paths."""
    root = tmp_path_factory.mktemp("transfer")
    prepared = root / "prepared"
    names = write_prepared(prepared)
    paths = {
        "extractor": root / "features" / "extractor.keras",
        "train": root / "features" / "train.npy",
        "test": root / "features" / "test.npy",
        "base": root / "features" / "base.json",
        "head": root / "exp" / "head.keras",
        "history": root / "exp" / "history.csv",
        "model": root / "exp" / "model.keras",
        "metrics": root / "exp" / "metrics.json",
        "predictions": root / "exp" / "predictions.csv",
        "confusion": root / "exp" / "confusion_matrix.csv",
        "bench_features": root / "bench_features.tsv",
        "bench_head": root / "bench_head.tsv",
    }
    steps.features(
        SPEC["base_model"],
        str(prepared),
        str(paths["extractor"]),
        {"train": str(paths["train"]), "test": str(paths["test"])},
        str(paths["base"]),
    )
    steps.train_head(
        "tiny_exp",
        SPEC,
        str(prepared),
        str(paths["train"]),
        str(paths["test"]),
        str(paths["head"]),
        str(paths["history"]),
    )
    steps.assemble(SPEC, str(paths["extractor"]), str(paths["head"]), str(paths["model"]))
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    paths["bench_features"].write_text(header + "12.5\t0:00:12\t1\t1\t1\t1\t0\t0\t0\t1\n")
    paths["bench_head"].write_text(header + "3.25\t0:00:03\t1\t1\t1\t1\t0\t0\t0\t1\n")
    raw = root / "raw.npy"
    raw.write_bytes(b"raw")
    steps.evaluate(
        "tiny_exp",
        SPEC,
        str(paths["model"]),
        str(paths["head"]),
        str(paths["history"]),
        str(prepared),
        str(paths["test"]),
        str(paths["base"]),
        [str(raw)],
        {"feature_pass_s": str(paths["bench_features"]), "head_training_s": str(paths["bench_head"])},
        str(paths["metrics"]),
        str(paths["predictions"]),
        str(paths["confusion"]),
    )
    paths["prepared"] = prepared
    paths["names"] = names
    return paths


def test_assembled_model_on_raw_images_equals_head_on_cached_features(pipeline):
    model = keras.models.load_model(pipeline["model"], safe_mode=True)
    head = keras.models.load_model(pipeline["head"], safe_mode=True)
    for part in ("train", "test"):
        images = np.load(pipeline["prepared"] / FILES[part]["images"])
        features = np.load(pipeline[part])
        assert features.shape == (len(images), 256)
        from_images = model.predict(images.astype(np.float32) / 255.0, verbose=0)
        from_features = head.predict(features, verbose=0)
        assert np.max(np.abs(from_images - from_features)) <= 1e-5
        assert np.std(from_features) > 1e-3  # not trivially equal (e.g. all zeros)


def test_model_keras_is_base_plus_trained_head(pipeline):
    model = keras.models.load_model(pipeline["model"], safe_mode=True)
    head = keras.models.load_model(pipeline["head"], safe_mode=True)
    assert [layer.name for layer in model.layers] == ["images", "feature_extractor", "head"]
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.get_layer("feature_extractor").layers)
    # the base stays frozen after the safe-mode reload: only the head is trainable
    assert trainable_count(model) == trainable_count(head) > 0
    assert model.count_params() == model.get_layer("feature_extractor").count_params() + head.count_params()
    for ours, trained in zip(model.get_layer("head").weights, head.weights, strict=True):
        assert np.array_equal(np.asarray(ours), np.asarray(trained))


def test_metrics_report_accuracy_equivalence_timing_and_random_base(pipeline):
    metrics = json.loads(pipeline["metrics"].read_text())
    predictions = pd.read_csv(pipeline["predictions"])
    confusion = pd.read_csv(pipeline["confusion"], index_col=0)
    labels = np.load(pipeline["prepared"] / FILES["test"]["labels"])
    accuracy = np.mean(predictions["true"].to_numpy() == predictions["predicted"].to_numpy())
    assert metrics["primary_metric"] == {"name": "accuracy", "value": pytest.approx(accuracy), "higher_is_better": True}
    assert metrics["metrics"]["accuracy"] == pytest.approx(accuracy)
    assert list(predictions["true"]) == [pipeline["names"][i] for i in labels]
    assert int(np.trace(confusion.to_numpy())) == int(round(accuracy * len(labels)))
    assert confusion.to_numpy().sum() == len(labels)
    assert metrics["equivalence"]["max_abs_logit_difference"] <= 1e-5
    assert metrics["timing"]["feature_pass_s"] == 12.5 and metrics["timing"]["head_training_s"] == 3.25
    assert set(metrics["timing"]["feature_forward_pass_s"]) == {"train", "test"}
    assert metrics["base_model"]["pretrained"] is False
    assert "randomly initialised" in metrics["warning"]
    assert metrics["epochs_run"] == len(pd.read_csv(pipeline["history"])) == 3
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(pd.read_csv(pipeline["history"]).columns)
    assert metrics["baseline"]["accuracy"] < 1


def test_evaluation_refuses_features_of_another_base(pipeline, tmp_path):
    other = tmp_path / "test.npy"
    features = np.load(pipeline["test"])
    np.save(other, features + 0.5)
    with pytest.raises(TrainingError, match="do not come from this model's base"):
        steps.evaluate(
            "tiny_exp",
            SPEC,
            str(pipeline["model"]),
            str(pipeline["head"]),
            str(pipeline["history"]),
            str(pipeline["prepared"]),
            str(other),
            str(pipeline["base"]),
            [],
            {},
            str(tmp_path / "m.json"),
            str(tmp_path / "p.csv"),
            str(tmp_path / "c.csv"),
        )
    assert not (tmp_path / "m.json").exists()


def test_missing_weights_file_names_the_config_key_and_path(tmp_path):
    missing = tmp_path / "nowhere" / "weights.h5"
    config = base_config({"name": "MobileNet", "weights": str(missing)})
    with pytest.raises(WorkflowInputError, match=r"experiments\.t\.base_model\.weights") as info:
        transfer.build_extractor(config, (32, 32, 3), "experiments.t.base_model")
    assert str(missing) in str(info.value)


def test_full_model_file_gives_the_base_its_weights_and_drops_the_top(tmp_path):
    full = keras.applications.MobileNet(alpha=0.25, include_top=True, weights=None)
    path = tmp_path / "full.weights.h5"
    full.save_weights(path)
    config = base_config({**TINY_BASE, "weights": str(path), "weights_include_top": True})
    extractor = transfer.build_extractor(config, (32, 32, 3))
    assert "conv_preds" not in [layer.name for layer in extractor.layers]
    for name in ("conv1", "conv_dw_7", "conv_pw_13_bn"):
        for ours, theirs in zip(extractor.get_layer(name).weights, full.get_layer(name).weights, strict=True):
            assert np.array_equal(np.asarray(ours), np.asarray(theirs))


def test_full_model_file_of_another_width_is_refused(tmp_path):
    full = keras.applications.MobileNet(alpha=0.25, include_top=True, weights=None)
    path = tmp_path / "full.weights.h5"
    full.save_weights(path)
    config = base_config({**TINY_BASE, "alpha": 0.5, "weights": str(path), "weights_include_top": True})
    with pytest.raises(WorkflowInputError, match=r"base_model\.weights: .*MobileNet\(alpha=0\.5\)"):
        transfer.build_extractor(config, (32, 32, 3))


def test_shared_mobilenet_full_model_loads_as_a_base(shared_data):
    path = shared_data / "pretrained" / "mobilenet_v1_0.25_224_imagenet.h5"
    config = base_config({"name": "MobileNet", "alpha": 0.25, "weights": str(path), "weights_include_top": True})
    extractor = transfer.build_extractor(config, (32, 32, 3))
    full = keras.applications.MobileNet(alpha=0.25, include_top=True, weights=None)
    full.load_weights(path)
    assert extractor.output_shape == (None, 256)
    for name in ("conv1", "conv_pw_13"):
        assert np.array_equal(extractor.get_layer(name).get_weights()[0], full.get_layer(name).get_weights()[0])


def test_imagenet_download_failure_explains_the_offline_recipe(monkeypatch):
    def no_network(fname, origin, **kwargs):
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.src.utils.file_utils, "get_file", no_network)
    config = base_config({"name": "DenseNet121"})
    with pytest.raises(WorkflowInputError) as info:
        transfer.build_extractor(config, (32, 32, 3), "experiments.transfer.base_model")
    message = str(info.value)
    assert "experiments.transfer.base_model.weights" in message
    assert "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert "30ee3e1110167f948a6b9946edeeb738" in message and "~/.keras/models/" in message


@pytest.mark.parametrize(
    "spec, key",
    [
        ({"name": "VGG16"}, "base_model.name"),
        ({"name": "DenseNet121", "alpha": 0.5}, "base_model.alpha"),
        ({"weights": "imagenet", "weights_include_top": True}, "base_model.weights_include_top"),
        ({"input_size": 16}, "base_model.input_size"),
    ],
)
def test_bad_base_config_names_the_key(spec, key):
    with pytest.raises(plan.PlanError, match="config key experiments.transfer." + key.replace(".", r"\.")):
        base_config(spec)


def test_base_id_names_the_architecture_and_follows_the_config():
    a = base_config({"name": "MobileNet", "alpha": 0.25})
    b = base_config({"name": "MobileNet", "alpha": 0.5})
    assert base_id(a).startswith("MobileNet_")
    assert base_id(a) == base_id(dict(reversed(list(a.items())))) != base_id(b)
    # a default spelled out is the same base (the same features directory)
    assert base_id(base_config({"name": "MobileNet", "alpha": 0.25, "pooling": "max"})) == base_id(a)


def test_schema_names_match_the_code():
    properties = load_schema()["$defs"]["base_model"]["properties"]
    assert properties["name"]["enum"] == list(transfer.ARCHITECTURES)
