"""Episode 5, transfer learning: a frozen pretrained base whose features are computed once.

The lesson trains ``head(base(upscale(images)))`` and so runs the whole frozen base forward
for every image in every epoch. The base is frozen and its BatchNormalization layers run in
inference mode, so its output for an image never changes. Here the base runs ONCE per
dataset and base configuration (:func:`build_extractor`, :func:`extract_features`), the head
(``dlwf.nn.builders.transfer_head``) trains on the stored features in seconds, and
:func:`assemble` joins the saved feature extractor and the trained head into one
``model.keras`` that predicts from raw images (``dlwf.steps.transfer`` evaluates THAT model on
the raw validation images and checks that it agrees with the head on the cached features).

The ``base_model`` block of a transfer experiment (defaults in ``config/schema.yaml``):

``name``
    ``DenseNet121`` (the lesson), ``MobileNet``, ``MobileNetV2`` or ``ResNet50``.
``weights``
    ``imagenet``: Keras downloads the base's "notop" ImageNet weights once and keeps them in
    ``$KERAS_HOME/models/`` (``~/.keras/models/`` by default; ``/tmp/.keras/models/`` when the
    home directory is not writable), checking the file's md5 on every use. Offline, put the
    file there yourself, e.g. for DenseNet121
    ``densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5`` (md5
    ``30ee3e1110167f948a6b9946edeeb738``) from
    https://storage.googleapis.com/tensorflow/keras-applications/densenet/ (a file with a
    different md5 is deleted and downloaded again), or give its path as ``weights``.
    A path: a local weights file, loaded with ``load_weights``. It holds the base without
    its ImageNet classifier ("notop", as Keras downloads it), or, with
    ``weights_include_top: true``, a full model WITH its classifier (e.g. a Keras 2 ``.h5``
    model that Keras 3 cannot ``load_model``): that file is loaded into the architecture
    built with its top and the base's layers take their weights by name.
    ``null``: random initialisation (seed 0), for smoke tests only; ``base.json`` and
    ``metrics.json`` say ``pretrained: false``.
``input_size``
    Images are resized, keeping their aspect ratio and padding with black, to this square
    size (the lesson: 160) by a ``keras.layers.Resizing`` layer inside the model. For square
    images it equals the lesson's ``tf.image.resize_with_pad``; for non-square ones the
    border row next to the padding differs (Keras pads first, then resizes).
``alpha``
    Width multiplier of MobileNet / MobileNetV2 (null: Keras' default 1.0).
``pooling``
    ``max`` (the lesson) or ``avg``: how the base's last feature map becomes a vector.
``preprocess``
    ``base``: the input scaling the base was trained with, as serialisable layers in the model
    (what ``keras.applications.<module>.preprocess_input`` does to 0..255 pixels: DenseNet121
    subtracts the ImageNet mean and divides by its standard deviation; MobileNet/MobileNetV2
    map to [-1, 1]; ResNet50 flips RGB to BGR and subtracts the BGR means on the 0..255 scale).
    ``none``: feed the [0, 1]-scaled images unchanged. The lesson does this for DenseNet121
    (it never calls ``preprocess_input``), so the lesson's experiment sets ``none``; the
    ImageNet weights were trained on normalised inputs, so ``base`` is the default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from dlwf.core.base_model import RANDOM_INIT_SEED, weights_path
from dlwf.core.errors import WorkflowInputError
from dlwf.data.images import scale


@dataclass(frozen=True)
class Architecture:
    constructor: str  # function name in keras.applications
    preprocessing: str  # mode of its preprocess_input in keras' imagenet_utils: tf, torch or caffe


# the architectures config/schema.yaml allows in base_model.name
ARCHITECTURES = {
    "DenseNet121": Architecture("DenseNet121", "torch"),
    "MobileNet": Architecture("MobileNet", "tf"),
    "MobileNetV2": Architecture("MobileNetV2", "tf"),
    "ResNet50": Architecture("ResNet50", "caffe"),
}
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)  # 'torch' mode, on [0, 1] pixels
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # 'caffe' mode, on 0..255 pixels
BATCH_SIZE = 64  # images per forward pass of the base (memory, not results)
TOLERANCE = 1e-5  # assembled model vs head on cached features, max |logit difference|
OFFLINE_HINT = (
    "Keras downloads the ImageNet weights into $KERAS_HOME/models/ (default ~/.keras/models/). Without "
    "internet, copy the file it names above into that directory (its md5 is checked; for DenseNet121 "
    "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5, md5 30ee3e1110167f948a6b9946edeeb738), or set "
    "the weights key to the path of a local weights file, or to null for an untrained base (smoke tests only)"
)


# ---------------------------------------------------------------------------- building the base


def preprocessing_layer(mode: str) -> keras.layers.Layer:
    """Return a serialisable layer doing ``preprocess_input(255 * x)`` of keras' ``mode`` on [0, 1] images.

    For 'caffe' the caller must set its weights with :func:`caffe_weights` once it is built.
    """
    if mode == "tf":
        return keras.layers.Rescaling(2.0, offset=-1.0, name="preprocess")
    if mode == "torch":
        return keras.layers.Normalization(
            mean=list(IMAGENET_MEAN_RGB), variance=[s * s for s in IMAGENET_STD_RGB], name="preprocess"
        )
    if mode == "caffe":
        # x * 255, RGB -> BGR, minus the BGR means: a fixed 1x1 convolution, because no built-in
        # layer reorders channels (a Lambda would not load in safe mode)
        return keras.layers.Conv2D(3, 1, name="preprocess", trainable=False)
    raise ValueError(f"unknown preprocessing mode {mode!r}")


def caffe_weights() -> list[np.ndarray]:
    """Return [kernel (1, 1, 3, 3), bias (3,)] of the 'caffe' 1x1 convolution."""
    kernel = np.zeros((1, 1, 3, 3), dtype=np.float32)
    for out_channel, in_channel in enumerate((2, 1, 0)):
        kernel[0, 0, in_channel, out_channel] = 255.0
    return [kernel, -np.asarray(CAFFE_MEAN_BGR, dtype=np.float32)]


def _constructor_args(config: dict) -> dict:
    return {"alpha": config["alpha"]} if config["alpha"] is not None else {}


def _architecture_text(config: dict) -> str:
    args = ", ".join(f"{k}={v}" for k, v in _constructor_args(config).items())
    return f"{config['name']}({args})"


def _load_full_model_weights(architecture: Architecture, config: dict, path: str, where: str) -> keras.Model:
    constructor = getattr(keras.applications, architecture.constructor)
    full = constructor(include_top=True, weights=None, **_constructor_args(config))
    try:
        full.load_weights(path)
    except Exception as exc:  # noqa: BLE001 - any failure means the file does not fit the architecture
        raise WorkflowInputError(
            f"config key {where}.weights: {path} could not be loaded into {_architecture_text(config)} WITH its "
            f"ImageNet top (weights_include_top: true): {str(exc).rstrip('.')}. "
            "Check name/alpha, and whether the file holds the base only (then set weights_include_top: false)"
        ) from exc
    return full


def copy_weights_by_name(source: keras.Model, target: keras.Model, where: str = "base_model") -> int:
    """Copy weights into every weighted layer of ``target`` from ``source``'s same-named layer; return the count."""
    source_layers = {layer.name: layer for layer in source.layers}
    copied = 0
    for layer in target.layers:
        if not layer.weights or layer.name == "preprocess":
            continue
        match = source_layers.get(layer.name)
        if match is None or [w.shape for w in match.weights] != [w.shape for w in layer.weights]:
            raise WorkflowInputError(
                f"config key {where}.weights: the full model has no layer {layer.name!r} with weights of shapes "
                f"{[tuple(w.shape) for w in layer.weights]}; it is not a {target.name} base"
            )
        layer.set_weights(match.get_weights())
        copied += 1
    return copied


def build_extractor(config: dict, image_shape: tuple[int, ...], where: str = "base_model") -> keras.Model:
    """Return the frozen feature extractor: images in [0, 1] -> upscale -> [preprocess] -> base -> pooled vector."""
    architecture = ARCHITECTURES[config["name"]]
    constructor = getattr(keras.applications, architecture.constructor)
    size = config["input_size"]
    inputs = keras.Input(shape=tuple(image_shape), name="images")
    # the lesson's Lambda(tf.image.resize_with_pad) as a layer that loads in safe mode
    x = keras.layers.Resizing(size, size, pad_to_aspect_ratio=True, interpolation="bilinear", name="upscale")(inputs)
    if config["preprocess"] == "base":
        preprocess = preprocessing_layer(architecture.preprocessing)
        x = preprocess(x)
        if architecture.preprocessing == "caffe":
            preprocess.set_weights(caffe_weights())

    path = weights_path(config)
    if path is not None and not Path(path).is_file():
        raise WorkflowInputError(
            f"config key {where}.weights: weights file {path} not found (relative paths are read from the "
            "directory snakemake runs in). Give an existing file, 'imagenet' for Keras' download, or null"
        )
    keras_weights = config["weights"] if path is None or not config["weights_include_top"] else None
    if keras_weights is None:
        keras.utils.set_random_seed(RANDOM_INIT_SEED)  # the same random base in every process
    try:
        extractor = constructor(
            include_top=False,
            weights=keras_weights,
            input_tensor=x,
            input_shape=(size, size, 3),
            pooling=config["pooling"],
            name="feature_extractor",
            **_constructor_args(config),
        )
    except Exception as exc:  # noqa: BLE001 - Keras raises plain Exception/ValueError here
        if "URL fetch failure" in str(exc):
            raise WorkflowInputError(
                f"config key {where}.weights: 'imagenet' weights of {config['name']} could not be downloaded "
                f"({exc}). {OFFLINE_HINT}"
            ) from exc
        if keras_weights == path and isinstance(exc, ValueError | OSError):
            raise WorkflowInputError(
                f"config key {where}.weights: {path} could not be loaded into {_architecture_text(config)} without "
                f"its top: {str(exc).rstrip('.')}. If the file is a full model with its ImageNet classifier, "
                "set weights_include_top: true"
            ) from exc
        if isinstance(exc, ValueError):
            raise WorkflowInputError(
                f"config key {where}: {_architecture_text(config)} cannot be built: {exc}"
            ) from exc
        raise
    if path is not None and config["weights_include_top"]:
        copy_weights_by_name(_load_full_model_weights(architecture, config, path, where), extractor, where)
    extractor.trainable = False
    return extractor


# ---------------------------------------------------------------------------- assembly and forward passes


def assemble(extractor: keras.Model, head: keras.Model) -> keras.Model:
    """Return one model, raw [0, 1] images -> logits: the frozen extractor followed by the trained head."""
    inputs = keras.Input(shape=extractor.input_shape[1:], name="images")
    extractor.trainable = False
    return keras.Model(inputs, head(extractor(inputs)), name="transfer_model")


def extract_features(
    extractor: keras.Model,
    images: np.ndarray,
    batch_size: int = BATCH_SIZE,
    progress_every: int | None = None,
    backup=None,
) -> np.ndarray:
    """Return the extractor's outputs (float32 (N, D)) for uint8 images, scaled to [0, 1] batch by batch.

    ``backup`` (a :class:`dlwf.nn.resume.ChunkBackup`) keeps the rows computed so far, in chunks of
    whole batches: a pass that was interrupted starts after its backed-up rows, with the same batches
    as an uninterrupted pass, so the features are the same.
    """
    outputs, pending = [], []
    first = 0
    if backup is not None:
        done = backup.done()
        if done is not None and len(done) <= len(images):
            outputs.append(done)
            first = len(done)
            print(f"  resumed: the features of images 1-{first} come from the backup in {backup.directory}", flush=True)
    start_time = time.perf_counter()
    batches = 0
    for start in range(first, len(images), batch_size):
        pending.append(np.asarray(extractor.predict_on_batch(scale(images[start : start + batch_size]))))
        batches += 1
        done = start + len(pending[-1])
        if backup is not None and backup.add(pending, done - sum(len(p) for p in pending)):
            outputs += pending
            pending = []
        if progress_every and (batches % progress_every == 0 or done == len(images)):
            print(f"  {done}/{len(images)} images, {time.perf_counter() - start_time:.1f} s", flush=True)
    return np.concatenate(outputs + pending).astype(np.float32, copy=False)


def predict_logits(model: keras.Model, inputs: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Return ``model``'s outputs for ``inputs`` (uint8 images are scaled first), batch by batch."""
    outputs = []
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start : start + batch_size]
        batch = scale(batch) if batch.dtype == np.uint8 else batch
        outputs.append(np.asarray(model.predict_on_batch(batch)))
    return np.concatenate(outputs).astype(np.float32, copy=False)
