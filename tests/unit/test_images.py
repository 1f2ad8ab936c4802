"""Fast tests of the image data layer, the CIFAR-10 conversion and the episode-4 builders."""

from __future__ import annotations

import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dlwf.core.errors import WorkflowInputError
from dlwf.data import images
from dlwf.plan.config import config_errors, load_schema
from tests.workflow import default_config, experiment_settings

REPO = Path(__file__).resolve().parents[2]
CLASSES = [f"class{i}" for i in range(10)]


def save(path: Path, array, allow_pickle: bool = False) -> Path:
    np.save(path, array, allow_pickle=allow_pickle)
    return path


def write_dataset(directory: Path, n_train: int = 6, n_test: int = 4, size: int = 8) -> list[str]:
    """Write the four .npy files of a tiny valid dataset (labels shaped (N, 1) like Dollar Street)."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", n_train), ("test", n_test)):
        save(directory / f"{part}_images.npy", rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8))
        save(directory / f"{part}_labels.npy", (np.arange(n) % 10).astype(np.uint8).reshape(n, 1))
    return [str(directory / name) for name in images.RAW_NPY_FILES]


# ---------------------------------------------------------------- validation of .npy files


def test_load_arrays_returns_uint8_images_and_flat_int64_labels(tmp_path):
    write_dataset(tmp_path)
    pixels, labels = images.load_arrays(tmp_path / "train_images.npy", tmp_path / "train_labels.npy", 10)
    assert pixels.dtype == np.uint8 and pixels.shape == (6, 8, 8, 3)
    assert labels.dtype == np.int64 and labels.shape == (6,)
    assert labels.tolist() == [0, 1, 2, 3, 4, 5]


def test_wrong_image_shape_is_refused_naming_the_file(tmp_path):
    grey = save(tmp_path / "imgs.npy", np.zeros((4, 8, 8), dtype=np.uint8))
    labels = save(tmp_path / "labels.npy", np.zeros(4, dtype=np.uint8))
    with pytest.raises(WorkflowInputError, match=r"imgs\.npy.*\(N, height, width, 3\).*\(4, 8, 8\)"):
        images.load_arrays(grey, labels, 10)


def test_labels_out_of_range_are_refused(tmp_path):
    pixels = save(tmp_path / "imgs.npy", np.zeros((3, 4, 4, 3), dtype=np.uint8))
    labels = save(tmp_path / "labels.npy", np.array([[0], [3], [10]], dtype=np.uint8))
    with pytest.raises(WorkflowInputError, match=r"labels\.npy.*0\.\.9.*found 0\.\.10"):
        images.load_arrays(pixels, labels, 10)


def test_count_mismatch_is_refused(tmp_path):
    pixels = save(tmp_path / "imgs.npy", np.zeros((3, 4, 4, 3), dtype=np.uint8))
    labels = save(tmp_path / "labels.npy", np.zeros((2, 1), dtype=np.uint8))
    with pytest.raises(WorkflowInputError, match=r"2 labels but .*imgs\.npy holds 3 images"):
        images.load_arrays(pixels, labels, 10)


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    pixels = save(tmp_path / "imgs.npy", np.array([{"not": "pixels"}], dtype=object), allow_pickle=True)
    labels = save(tmp_path / "labels.npy", np.zeros(1, dtype=np.uint8))
    with pytest.raises(WorkflowInputError, match=r"imgs\.npy.*pickled object array"):
        images.load_arrays(pixels, labels, 10)


@pytest.mark.parametrize(
    "pixels, labels, match",
    [
        (
            np.zeros((2, 4, 4, 3), dtype=np.float32),
            np.zeros(2, dtype=np.uint8),
            r"imgs\.npy.*integer pixel values.*float32",
        ),
        (np.full((2, 4, 4, 3), 300, dtype=np.int16), np.zeros(2, dtype=np.uint8), r"imgs\.npy.*0\.\.255, found 300"),
        (np.zeros((2, 4, 4, 3), dtype=np.uint8), np.zeros(2, dtype=np.float64), r"labels\.npy.*integer class indices"),
        (np.zeros((2, 4, 4, 3), dtype=np.uint8), np.zeros((2, 2), dtype=np.uint8), r"labels\.npy.*\(N,\) or \(N, 1\)"),
    ],
)
def test_wrong_dtypes_and_ranges_are_refused(tmp_path, pixels, labels, match):
    with pytest.raises(WorkflowInputError, match=match):
        images.load_arrays(save(tmp_path / "imgs.npy", pixels), save(tmp_path / "labels.npy", labels), 10)


def test_not_an_npy_file_is_refused(tmp_path):
    bad = tmp_path / "imgs.npy"
    bad.write_text("<html>rate limited</html>")
    labels = save(tmp_path / "labels.npy", np.zeros(1, dtype=np.uint8))
    with pytest.raises(WorkflowInputError, match=r"imgs\.npy: not a valid \.npy file \(it starts with b.<html>"):
        images.load_arrays(bad, labels, 10)


def test_scale_maps_pixels_to_unit_float32():
    scaled = images.scale(np.array([[[[0, 51, 255]]]], dtype=np.uint8))
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled.ravel(), [0.0, 0.2, 1.0])


# ---------------------------------------------------------------- prepare


def prepare(raw, out, class_names, source_format="npy", subset=None, where="dataset"):
    """Rule prepare_images' step: validate (or convert) the raw files into ``out``; return classes.json."""
    from dlwf.steps import images as step

    return step.prepare([str(p) for p in raw], class_names, source_format, subset or {}, str(out), where)


def test_prepare_writes_validated_copies_classes_and_subset(tmp_path):
    raw = write_dataset(tmp_path / "raw")
    out = tmp_path / "prepared"
    record = prepare(raw, out, CLASSES, subset={"train": 5, "test": None})
    assert record["counts"] == {"train": 5, "test": 4}
    assert record["image_shape"] == [8, 8, 3]
    assert images.read_classes(out)["class_names"] == CLASSES
    pixels, labels = images.load_split(out, "train", 10)
    original = np.load(tmp_path / "raw" / "train_images.npy")
    np.testing.assert_array_equal(pixels, original[:5])
    assert labels.shape == (5,)


def test_prepare_refuses_a_subset_larger_than_the_data_and_writes_nothing(tmp_path):
    raw = write_dataset(tmp_path / "raw")
    with pytest.raises(WorkflowInputError, match=r"subset\.test asks for the first 50 images .* only 4"):
        prepare(raw, tmp_path / "prepared", CLASSES, subset={"test": 50}, where="datasets.x")
    assert not (tmp_path / "prepared").exists() or not any((tmp_path / "prepared").iterdir())


def test_prepare_refuses_labels_beyond_the_configured_classes(tmp_path):
    raw = write_dataset(tmp_path / "raw")
    with pytest.raises(WorkflowInputError, match=r"train_labels\.npy: labels must lie in 0\.\.2 \(3 class names"):
        prepare(raw, tmp_path / "prepared", ["a", "b", "c"])


def test_prepare_refuses_train_and_test_of_different_sizes(tmp_path):
    raw = write_dataset(tmp_path / "raw")
    save(tmp_path / "raw" / "test_images.npy", np.zeros((4, 9, 9, 3), dtype=np.uint8))
    with pytest.raises(WorkflowInputError, match=r"same image size"):
        prepare(raw, tmp_path / "prepared", CLASSES)


# ---------------------------------------------------------------- CIFAR-10 python tarball


def cifar_batch(labels: list[int], seed: int) -> dict:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)
    return {b"batch_label": b"batch", b"labels": labels, b"data": data, b"filenames": [b"x.png"] * len(labels)}


def make_cifar_tarball(path: Path, extra: dict[str, bytes] | None = None, batch_override: bytes | None = None):
    """Write a miniature cifar-10-python.tar.gz (2 images per batch), pickled like the original."""
    members = {
        f"cifar-10-batches-py/data_batch_{i}": pickle.dumps(cifar_batch([i, i + 1], i), protocol=2) for i in range(1, 6)
    }
    members["cifar-10-batches-py/test_batch"] = pickle.dumps(cifar_batch([0, 9, 3], 9), protocol=2)
    meta = {b"label_names": [n.encode() for n in CLASSES], b"num_vis": 3072}
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps(meta, protocol=2)
    if batch_override is not None:
        members["cifar-10-batches-py/data_batch_1"] = batch_override
    members.update(extra or {})
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path


def test_cifar_tarball_is_converted_to_the_npy_layout(tmp_path):
    tarball = make_cifar_tarball(tmp_path / "cifar-10-python.tar.gz")
    record = prepare(
        [str(tarball)], tmp_path / "prepared", CLASSES, source_format="cifar10_python", subset={"train": 8}
    )
    assert record["counts"] == {"train": 8, "test": 3}
    pixels, labels = images.load_split(tmp_path / "prepared", "train", 10)
    assert pixels.shape == (8, 32, 32, 3)
    assert labels.tolist() == [1, 2, 2, 3, 3, 4, 4, 5]
    # rows of the original are the red, green and blue planes: pixel (r, c) of channel k is data[k*1024 + r*32 + c]
    data = cifar_batch([1, 2], 1)[b"data"]
    assert pixels[0, 2, 5].tolist() == [data[0, 2 * 32 + 5], data[0, 1024 + 2 * 32 + 5], data[0, 2048 + 2 * 32 + 5]]


class _RunsCode:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_cifar_batch_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({b"data": _RunsCode(str(marker)), b"labels": [0]}, protocol=2)
    tarball = make_cifar_tarball(tmp_path / "c.tar.gz", batch_override=evil)
    refused = r"data_batch_1: not a CIFAR-10 python batch .*refusing to load global posix\.mkdir"
    with pytest.raises(WorkflowInputError, match=refused):
        images.read_cifar10_tarball(tarball)
    assert not marker.exists()


def test_cifar_member_escaping_the_directory_is_refused(tmp_path):
    tarball = make_cifar_tarball(tmp_path / "c.tar.gz", extra={"../../evil.txt": b"x"})
    with pytest.raises(WorkflowInputError, match=r"archive member '\.\./\.\./evil\.txt' would escape"):
        images.read_cifar10_tarball(tarball)


def test_cifar_class_names_must_match_the_archive(tmp_path):
    tarball = make_cifar_tarball(tmp_path / "c.tar.gz")
    wrong = list(reversed(CLASSES))
    with pytest.raises(WorkflowInputError, match=r"datasets\.cifar10\.class_names: .* differ"):
        prepare([str(tarball)], tmp_path / "p", wrong, source_format="cifar10_python", where="datasets.cifar10")


def test_a_tarball_without_the_batches_is_refused(tmp_path):
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("readme.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(WorkflowInputError, match=r"not the CIFAR-10 python archive; missing"):
        images.read_cifar10_tarball(path)


# ---------------------------------------------------------------- config


def test_default_config_defines_dollar_street_and_the_eight_image_experiments():
    config = default_config()
    assert config_errors(config, load_schema(REPO / "config" / "schema.yaml")) == []
    spec = config["datasets"]["dollar_street"]
    assert spec["kind"] == "images" and len(spec["class_names"]) == 10
    assert {f["name"] for f in spec["files"]} == set(images.RAW_NPY_FILES)
    assert all("zenodo.org/records/10970014/files/" in f["url"] for f in spec["files"])
    ids = [
        "cnn_small",
        "cnn_pool",
        "dense_only",
        "cnn_extra_layer",
        "cnn_dropout",
        "dropout_sweep",
        "tuning",
        "tuning_activation_kernel",
    ]
    assert all(config["experiments"][e]["dataset"] == "dollar_street" for e in ids)
    assert config["experiments"]["dropout_sweep"]["sweep"]["values"] == [0.2, 0.4, 0.6, 0.8, 0.9, 0.95]


def test_image_dataset_without_class_names_is_a_config_error():
    config = default_config()
    del config["datasets"]["dollar_street"]["class_names"]
    errors = config_errors(config, load_schema(REPO / "config" / "schema.yaml"))
    assert any("datasets.dollar_street" in e and "class_names" in e for e in errors), errors


# ---------------------------------------------------------------- builders (Keras)


LESSON_PARAMETERS = {
    "cnn_small": 1_823_960,
    "cnn_pool": 514_510,
    "dense_only": 617_510,
    "cnn_extra_layer": 137_060,
    "cnn_dropout": 137_060,
}


@pytest.mark.parametrize("experiment, expected", LESSON_PARAMETERS.items())
def test_configured_models_have_the_lessons_parameter_counts_on_64x64(experiment, expected):
    from dlwf.nn.training import build

    model = build(experiment_settings(experiment), (64, 64, 3), 10)
    assert model.count_params() == expected


def test_sweep_model_puts_dropout_after_pool1_pool2_and_conv3():
    from dlwf.nn.training import build

    model = build(experiment_settings("dropout_sweep"), (64, 64, 3), 10, overrides={"dropout": 0.4})
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer",
        "Conv2D",
        "MaxPooling2D",
        "Dropout",
        "Conv2D",
        "MaxPooling2D",
        "Dropout",
        "Conv2D",
        "Dropout",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert {layer.rate for layer in model.layers if kinds[model.layers.index(layer)] == "Dropout"} == {0.4}


def test_unknown_sweep_argument_names_the_config_key():
    from dlwf import plan

    config = default_config()
    config["experiments"]["dropout_sweep"]["sweep"]["arg"] = "dropout_rate"
    with pytest.raises(plan.PlanError) as error:
        plan.load(config)
    assert "config key experiments.dropout_sweep.sweep.arg: 'dropout_rate' is not an argument of builder 'cnn'" in str(
        error.value
    )
    config = default_config()
    config["experiments"]["dropout_sweep"]["sweep"]["values"] = [0.2, 1.5]
    with pytest.raises(
        plan.PlanError,
        match=r"experiments\.dropout_sweep\.sweep\.values: value 1\.5: "
        r"model\.args\.dropout: 1\.5 is greater than or equal",
    ):
        plan.load(config)


def test_tuner_grid_is_the_lessons_six_points():
    import keras_tuner

    from dlwf.nn.tuning import declare

    space = default_config()["experiments"]["tuning"]["tuner"]["hyperparameters"]
    hp = keras_tuner.HyperParameters()
    declare(hp, space, "experiments.tuning.tuner.hyperparameters")
    values = {p.name: list(p.values) for p in hp.space}
    assert values["conv_layers"] == [1, 2]
    np.testing.assert_allclose(values["dropout"], [0.2, 0.5, 0.8])


# ---------------------------------------------------------------- sweep aggregate (no Keras)


def test_sweep_aggregate_has_one_row_per_value_and_picks_the_lowest_val_loss(tmp_path):
    import pandas as pd

    from dlwf.steps import images as step

    raw = write_dataset(tmp_path / "raw")
    prepare(raw, tmp_path / "prepared", CLASSES)
    spec = experiment_settings("dropout_sweep")
    evaluations, histories = [], []
    for value, val_loss in zip(spec["sweep"]["values"], [2.0, 1.5, 1.2, 1.1, 1.3, 1.9], strict=True):
        path = tmp_path / f"e{value}.json"  # the point's own metrics.json, as its evaluation writes it
        path.write_text(
            json.dumps(
                {
                    "experiment": f"dropout_sweep/dropout-{value}",
                    "dataset": "dollar_street",
                    "primary_metric": {"name": "accuracy", "value": 1 / val_loss},
                    "test_set": {"file": "test_images.npy", "md5": "f" * 32},
                    "metrics": {"loss": val_loss, "accuracy": 1 / val_loss},
                    "epochs_run": 3,
                    "stopped_early": True,
                    "n_parameters": 407_060,
                    "provenance": {"environment": {"device": "CPU"}},
                }
            )
        )
        evaluations.append(str(path))
        history = tmp_path / f"h{value}.csv"
        pd.DataFrame({"epoch": [1, 2, 3], "loss": [2, 1, 0.5], "val_loss": [2.2, val_loss, val_loss]}).to_csv(history)
        histories.append(str(history))
    out = tmp_path / "out"
    table = step.aggregate_sweep(
        "dropout_sweep",
        spec,
        evaluations,
        histories,
        str(tmp_path / "prepared"),
        raw,
        out / "sweep.csv",
        out / "plot.png",
        out / "curves.png",
        out / "metrics.json",
    )
    assert table["dropout"].tolist() == [0.2, 0.4, 0.6, 0.8, 0.9, 0.95]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["best"]["dropout"] == 0.8
    assert metrics["primary_metric"] == {"name": "accuracy", "value": pytest.approx(1 / 1.1), "higher_is_better": True}
    assert metrics["test_set"]["file"] == "test_images.npy" and table["best_epoch"].tolist() == [2] * 6
    assert set(metrics["provenance"]["dataset_md5"]) == set(images.RAW_NPY_FILES)
    assert (out / "plot.png").stat().st_size > 1000 and (out / "curves.png").stat().st_size > 1000
