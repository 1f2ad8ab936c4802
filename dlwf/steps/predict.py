"""Rules of rules/predict.smk: the lesson's "perform a prediction" and "share the model" steps.

:func:`predict_table` and :func:`predict_images` apply a trained model (loaded from its
``model.keras`` in safe mode, as anyone it is shared with would) to new inputs and write one
row per input (the card that goes with a shared model is written by the evaluation, see
:func:`dlwf.steps.common.model_card`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import write_csv
from dlwf.data import tables


def _probabilities(outputs: np.ndarray, from_logits: bool) -> np.ndarray:
    from dlwf.evaluate.metrics import softmax

    return softmax(outputs) if from_logits else outputs


def _class_rows(ids: pd.DataFrame, outputs: np.ndarray, class_names: list[str], from_logits: bool) -> pd.DataFrame:
    probabilities = _probabilities(np.asarray(outputs, dtype=np.float64), from_logits)
    rows = ids.copy()
    rows["predicted"] = [class_names[i] for i in probabilities.argmax(axis=1)]
    for i, name in enumerate(class_names):
        rows[f"p_{name}"] = probabilities[:, i]
    return rows


def predict_table(
    settings: dict, model_path: str, columns_json: str, new_csv: str, predictions_out: str, separator: str | None = None
) -> pd.DataFrame:
    """Predict every row of ``new_csv`` (the training columns, without the target) with the saved model.

    Columns are checked against the training columns: a missing or an unexpected one is named (the
    target and the id column may be present and are ignored). Writes one row per input row: its id
    (the id column, else its row number), the predicted class and each class's probability, or
    the predicted value.
    """
    from dlwf.nn.model_io import load_model_checked
    from dlwf.nn.training import tensors

    columns = tables.load_columns(columns_json)
    dtype = {c: str for c in columns["categorical_inputs"].values()} or None
    frame = tables.read_csv_checked(new_csv, separator=separator, dtype=dtype)
    expected = set(columns["features"])
    allowed = expected | {columns["target"], columns.get("id_column")}
    missing = [c for c in columns["features"] if c not in frame.columns]
    extra = [c for c in frame.columns if c not in allowed]
    if missing or extra:
        raise WorkflowInputError(
            f"{new_csv}: the columns differ from the training columns: missing {missing}, unexpected {extra}; "
            f"the model takes {columns['features']}"
        )
    inputs = tables.model_inputs(frame, columns, new_csv)
    model = load_model_checked(model_path)
    outputs = model.predict(tensors(inputs), verbose=0)
    id_column = columns.get("id_column")
    if id_column and id_column in frame:
        ids = pd.DataFrame({id_column: frame[id_column].to_numpy()})
    else:
        ids = pd.DataFrame({"row": np.arange(1, len(frame) + 1)})
    if columns["task"] == "classification":
        rows = _class_rows(ids, outputs, columns["class_names"], settings["training"]["from_logits"])
    else:
        rows = ids.assign(predicted=np.asarray(outputs, dtype=np.float64).reshape(len(frame)))
    write_csv(rows, predictions_out)
    print(f"{len(rows)} predictions from {new_csv}")
    return rows


def predict_images(
    settings: dict, model_path: str, classes_json: str, new_files: list[str], folder: str, predictions_out: str
) -> pd.DataFrame:
    """Predict the class of every image file of ``new_files`` (under ``folder``) with the saved model.

    Each image is read with Pillow, converted to RGB and resized to the training images' size,
    as the training images were. Writes one row per file: its path under the folder, the
    predicted class and each class's probability.
    """
    from dlwf.data import image_folder
    from dlwf.data.images import read_classes, scale
    from dlwf.nn.model_io import load_model_checked

    classes = read_classes(classes_json)
    height, width = classes["image_shape"][:2]
    if not new_files:
        raise WorkflowInputError(f"{folder}: no image file to predict on")
    pixels, names = image_folder.read_files(new_files, (height, width), root=folder)
    model = load_model_checked(model_path)
    outputs = model.predict(scale(pixels), verbose=0)
    rows = _class_rows(
        pd.DataFrame({"file": names}), outputs, classes["class_names"], settings["training"]["from_logits"]
    )
    write_csv(rows, predictions_out)
    print(f"{len(rows)} predictions for the images of {folder}")
    return rows
