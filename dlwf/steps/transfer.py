"""Rules of rules/transfer.smk: episode 5, a frozen pretrained base run once, a head trained on its features.

The lesson trains ``head(base(upscale(images)))`` end to end, so the frozen base runs for every
image in every epoch. Here :func:`features` runs it ONCE per dataset and base configuration, the
head trains on the stored features (:func:`train_head`), :func:`assemble` joins base and head
into one ``model.keras`` that predicts from raw images, and :func:`evaluate` evaluates THAT
model on the raw validation images, checking that it agrees with the head on the cached features.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from dlwf.core import runtime
from dlwf.core.base_model import base_id, describe_weights, weights_path
from dlwf.core.errors import TrainingError, WorkflowInputError
from dlwf.core.fileio import md5sum, read_json_checked, save_npy, write_csv, write_json
from dlwf.data.images import load_npy, load_split, read_classes
from dlwf.nn import transfer_base
from dlwf.nn.model_io import load_model_checked, save_model

from . import common


def load_features(path: str, n_expected: int | None = None) -> np.ndarray:
    """Return a features file (float32 (N, D), finite); raise naming it when it is not one."""
    fix = "delete it and run snakemake again to recompute the features"
    features = load_npy(Path(path), fix)
    if features.ndim != 2 or features.dtype != np.float32 or (n_expected is not None and len(features) != n_expected):
        raise WorkflowInputError(
            f"{path}: expected float32 features of shape ({n_expected or 'N'}, D), got {features.dtype} "
            f"{features.shape}; {fix}"
        )
    if not np.all(np.isfinite(features)):
        row = int(np.flatnonzero(~np.isfinite(features).all(axis=1))[0])
        raise WorkflowInputError(f"{path}: image {row + 1} has non-finite (NaN or infinite) features; {fix}")
    return features


BASE_JSON_KEYS = ("base_id", "config", "weights", "pretrained", "weights_md5", "feature_dim", "forward_pass_s")


def features(
    config: dict,
    prepared_dir: str,
    extractor_out: str,
    features_out: dict[str, str],
    base_json_out: str,
    where: str = "base_model",
    backup=None,
) -> dict:
    """Run the frozen base once over the train and test images; save the extractor, features and base.json.

    ``config`` is the base_model block (defaults filled in); ``where`` names it in errors.
    ``backup`` (:class:`dlwf.nn.resume.Job`): the pass keeps its rows in chunks there, an interrupted
    pass resumes after them (with the same batches, so the features are identical), and the backup
    is removed once every output is written.
    """
    classes = read_classes(prepared_dir)
    notes: list[str] = []  # printed after the summary line, which comes first
    resuming = backup.open(log=notes.append) if backup is not None else False
    extractor = transfer_base.build_extractor(config, tuple(classes["image_shape"]), where)
    path = weights_path(config)
    environment = common.environment()
    record = {
        "base_id": base_id(config),
        "config": config,
        "weights": describe_weights(config),
        "pretrained": config["weights"] is not None,
        "weights_md5": md5sum(path) if path else None,
        "image_shape": list(classes["image_shape"]),
        "feature_dim": int(extractor.output_shape[-1]),
        "n_parameters": int(extractor.count_params()),
        "batch_size": transfer_base.BATCH_SIZE,
        "device": environment["device"],
        "environment": environment,
        "forward_pass_s": {},
        "n_images": {},
    }
    counts = {part: int(classes["counts"][part]) for part in features_out} if "counts" in classes else {}
    images = ", ".join(f"{part} {n}" for part, n in counts.items())
    enabled = backup is not None and backup.enabled
    line = (
        f"FEATURES of base {record['base_id']} ({config['name']}, {record['weights']}): images {images} of "
        f"{tuple(classes['image_shape'])} -> {config['input_size']}x{config['input_size']} -> features of size "
        f"{record['feature_dim']}; {record['n_parameters']:,} parameters (frozen); batches of "
        f"{transfer_base.BATCH_SIZE}; on {record['device']}; "
        + ("resuming from the backup" if resuming else "from the first image")
        + (f"; backup {backup.directory}" if enabled else "; no backup (resume.enabled: false)")
    )
    runtime.print_summary(line, notes)
    for part, dest in features_out.items():
        pixels, _ = load_split(prepared_dir, part, classes["n_classes"])
        size = config["input_size"]
        print(f"{part}: {len(pixels)} images of {pixels.shape[1:]} -> {size}x{size}", flush=True)
        start = time.perf_counter()
        values = transfer_base.extract_features(
            extractor, pixels, progress_every=10, backup=backup.chunks(part) if backup is not None else None
        )
        record["forward_pass_s"][part] = round(time.perf_counter() - start, 3)
        record["n_images"][part] = int(len(pixels))
        if not np.all(np.isfinite(values)):
            raise TrainingError(f"the base produced non-finite features for the {part} images; check the weights")
        save_npy(values, dest)
    save_model(extractor, extractor_out)
    if resuming:
        record["resumed"] = True  # forward_pass_s then counts the images of this run only
    write_json(record, base_json_out)
    print(f"forward passes (s): {record['forward_pass_s']} on {record['device']}")
    if backup is not None:
        backup.finish()
    return record


def train_head(
    experiment: str,
    settings: dict,
    prepared_dir: str,
    train_features: str,
    test_features: str,
    head_out: str,
    history_out: str,
    environment_out: str | None = None,
    tensorboard_dir: str | None = None,
    backup=None,
) -> pd.DataFrame:
    """Train the experiment's head on cached features (validation: the test features); save head + history.

    ``tensorboard_dir``: TensorBoard logs; ``backup``: the job's :class:`dlwf.nn.resume.Job` (resume an
    interrupted run; removed once every output is written)."""
    from dlwf.nn import training

    classes = read_classes(prepared_dir)
    _, y_train = load_split(prepared_dir, "train", classes["n_classes"])
    _, y_test = load_split(prepared_dir, "test", classes["n_classes"])
    x_train = load_features(train_features, len(y_train))
    x_test = load_features(test_features, len(y_test))
    validation = (x_test, y_test) if settings["training"]["validation"] else None
    head, history = training.train(
        settings,
        x_train,
        y_train,
        classes["n_classes"],
        validation,
        tensorboard_dir=tensorboard_dir,
        where=f"experiments.{experiment}.model",
        backup=backup,
        what=f"{settings['dataset']}/{experiment} (head on cached features)",
    )
    save_model(head, head_out)
    write_csv(history, history_out)
    if environment_out:
        common.write_environment(environment_out, backup.record() if backup else None)
    if backup is not None:
        backup.finish()
    return history


def assemble(settings: dict, extractor_path: str, head_path: str, model_out: str) -> None:
    """Load the saved extractor and trained head, join them into one model and save it (safe-mode loadable)."""
    from dlwf.nn import training

    model = transfer_base.assemble(load_model_checked(extractor_path), load_model_checked(head_path))
    training.compile_model(model, settings["training"])  # so model.evaluate works as in the lesson
    model.summary(print_fn=print)
    save_model(model, model_out)


def benchmark_seconds(path: str) -> float:
    """Return the wall-clock seconds recorded in a Snakemake benchmark file (its 's' column)."""
    try:
        seconds = float(pd.read_csv(path, sep="\t")["s"].iloc[0])
    except (OSError, ValueError, KeyError, IndexError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise WorkflowInputError(
            f"{path}: not a Snakemake benchmark file ({type(exc).__name__}); delete it and run snakemake again so "
            "the job that writes it runs anew"
        ) from exc
    return seconds


def evaluate(
    experiment: str,
    settings: dict,
    model_path: str,
    head_path: str,
    history_csv: str,
    prepared_dir: str,
    test_features: str,
    base_json: str,
    raw_files: list[str],
    benchmarks: dict[str, str],
    metrics_out: str,
    predictions_out: str,
    confusion_out: str,
    training_environment_json: str | None = None,
    card_out: str | None = None,
    figures: dict[str, str] | None = None,
) -> dict:
    """Evaluate the assembled model on the RAW validation images; write metrics, predictions, confusion matrix.

    Fails when the model disagrees with the head on the cached features by more than
    ``transfer_base.TOLERANCE``: the features would then not be this model's, and the head's
    training would not describe it.
    """
    from dlwf.evaluate import record as records  # not at the top: the feature pass must not depend on it

    from .images import finish_classifier

    classes = read_classes(prepared_dir)
    _, y_train = load_split(prepared_dir, "train", classes["n_classes"])
    pixels, y_test = load_split(prepared_dir, "test", classes["n_classes"])
    cached = load_features(test_features, len(y_test))
    model = load_model_checked(model_path)  # from disk, safe mode
    head = load_model_checked(head_path)
    logits = transfer_base.predict_logits(model, pixels)
    difference = float(np.max(np.abs(logits - transfer_base.predict_logits(head, cached))))
    print(f"max |assembled model on raw images - head on cached features| = {difference:.3g}")
    if difference > transfer_base.TOLERANCE:
        raise TrainingError(
            f"{model_path} on the raw validation images differs from the head on {test_features} by "
            f"{difference:.3g} (> {transfer_base.TOLERANCE}); the cached features do not come from this model's base"
        )
    base = read_json_checked(
        base_json,
        BASE_JSON_KEYS,
        "base.json of the feature pass",
        "delete it and run snakemake again to recompute the features",
    )
    timing = {name: round(benchmark_seconds(path), 3) for name, path in benchmarks.items()}
    timing["feature_forward_pass_s"] = base["forward_pass_s"]
    timing["benchmark_files"] = {name: str(path) for name, path in benchmarks.items()}
    extra = {
        "evaluated_on": f"{records.LESSON_VALIDATION}, as raw images through model.keras",
        "n_trainable_parameters": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "base_model": {
            "id": base["base_id"],
            "name": base["config"]["name"],
            "weights": base["weights"],
            "pretrained": base["pretrained"],
            "weights_md5": base["weights_md5"],
            "feature_dim": base["feature_dim"],
            "config": base["config"],
            "feature_pass_environment": base.get("environment"),
        },
        "equivalence": {
            "max_abs_logit_difference": difference,
            "tolerance": transfer_base.TOLERANCE,
            "compared": "model.keras on the raw validation images vs the head on the cached validation features",
        },
        "timing": timing,
    }
    if not base["pretrained"]:
        extra["warning"] = "the base model was randomly initialised (weights: null), not pretrained"
    record = finish_classifier(
        experiment,
        settings,
        model.count_params(),
        logits,
        y_test,
        y_train,
        classes["class_names"],
        history_csv,
        prepared_dir,
        raw_files,
        metrics_out,
        predictions_out,
        confusion_out,
        training_environment_json=training_environment_json,
        **extra,
    )
    if card_out:
        common.model_card(record, classes, settings, model_path, card_out)
    if figures:
        from . import plots

        plots.run_figures(experiment, history_csv, figures, confusion_csv=confusion_out)
    print(f"feature pass {timing.get('feature_pass_s')} s, head training {timing.get('head_training_s')} s")
    return record
