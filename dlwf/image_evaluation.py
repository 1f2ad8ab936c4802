"""Evaluate a saved image classifier on the validation images (the dataset's test files).

As in the lesson, the test files are the validation set; ``metrics.json`` says so and uses the
same layout as :func:`dlwf.experiment.evaluate_classifier` (majority baseline included).
"""

from __future__ import annotations

import keras

from . import images
from .experiment import _base_record, finish_classifier
from .image_experiment import softmax
from .models import load_model_checked


def evaluate_image_classifier(
    experiment: str,
    spec: dict,
    model_path: str,
    history_csv: str,
    prepared_dir: str,
    raw_files: list[str],
    metrics_out: str,
    predictions_out: str,
    confusion_out: str,
    device: str = "unknown",
) -> dict:
    """Evaluate the saved model on the validation (test) images; write metrics, predictions, confusion matrix."""
    classes = images.read_classes(prepared_dir)
    class_names, n_classes = classes["class_names"], classes["n_classes"]
    model = load_model_checked(model_path)  # from disk, safe mode: the lesson's 'share' step
    _, y_train = images.load_split(prepared_dir, "train", n_classes)
    x_val, y_val = images.load_split(prepared_dir, "test", n_classes)
    outputs = model.predict(images.scale(x_val), verbose=0)
    from_logits = bool(spec["training"].get("from_logits"))
    probabilities = softmax(outputs) if from_logits else outputs
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)(y_val, outputs)
    test_images = f"{prepared_dir}/{images.FILES['test']['images']}"
    record = _base_record(experiment, spec, model, history_csv, raw_files, test_images, device)
    return finish_classifier(
        record, probabilities, y_val, y_train, class_names, metrics_out, predictions_out, confusion_out,
        loss=loss, evaluated_on="validation set (the dataset's test files, as in the lesson)",
    )
