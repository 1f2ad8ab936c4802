"""Train one experiment the plain way (in-process model.fit) and print its timings as JSON.

Run by benchmarks/run.py in a fresh process (TensorFlow's thread pools are fixed per
process) on the split/prepared files the workflow produced, with the experiment's own
config (read from its metrics.json), so the comparison uses the same data, seed and epochs.
It does what a researcher's standalone script does (import TensorFlow, load the data, build,
fit, save model.keras), so run.py can compare the workflow job with both the bare
``model.fit`` and this whole plain process.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlwf.core import runtime  # noqa: E402


def tabular_data(workdir: Path, spec: dict):
    from dlwf.data.tables import load_columns, load_xy

    split = workdir / "results" / spec["dataset"] / "split"
    if spec.get("view"):
        split = split / spec["view"]
    columns = load_columns(split / "columns.json")
    train = load_xy(split / "train.csv", columns)
    validation = spec["training"].get("validation")
    val = load_xy(split / f"{validation}.csv", columns) if validation else None
    return train, val


def build_tabular(spec: dict, train):
    from dlwf.nn.training import build

    return build(spec, train[0].shape[1:], train[1].shape[1], adapt_data=train[0])


def lesson_transfer_loop(workdir: Path, experiment: str, spec: dict, epochs: int) -> dict:
    """Time the lesson's loop: base + head trained end to end on raw images for ``epochs`` epochs."""
    import os

    import keras

    from dlwf.data import images
    from dlwf.nn import training
    from dlwf.nn import transfer_base as transfer
    from dlwf.nn.builders import build_model

    prepared = workdir / "results" / spec["dataset"] / "prepared"
    classes = images.read_classes(prepared)
    x_train, y_train = images.load_split(prepared, "train", classes["n_classes"])
    x_val, y_val = images.load_split(prepared, "test", classes["n_classes"])
    os.chdir(workdir)  # local weights paths in the config are relative to the workflow
    extractor = transfer.build_extractor(spec["base_model"], x_train.shape[1:])
    keras.utils.set_random_seed(spec["seed"])
    head = build_model(
        spec["model"]["builder"], extractor.output_shape[1:], classes["n_classes"], spec["model"].get("args")
    )
    model = transfer.assemble(extractor, head)
    settings = {**spec["training"], "epochs": epochs, "early_stopping": None}
    training.compile_model(model, settings)
    start = time.perf_counter()
    history = training.fit(model, images.scale(x_train), y_train, settings, (images.scale(x_val), y_val))
    seconds = time.perf_counter() - start
    return {
        "experiment": experiment,
        "lesson_loop_epochs": len(history),
        "lesson_loop_s": seconds,
        "lesson_val_accuracy": float(history["val_accuracy"].iloc[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--metrics", required=True, type=Path, help="the experiment's metrics.json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--lesson-transfer-epochs",
        type=int,
        default=0,
        help="time the lesson's end-to-end transfer loop for this many epochs instead",
    )
    args = parser.parse_args()
    runtime.configure_tensorflow(args.threads)
    import keras  # noqa: F401  (timed as part of the import)

    from dlwf.nn import training

    imported = time.perf_counter()

    spec = json.loads(args.metrics.read_text())["provenance"]["config"]
    if args.lesson_transfer_epochs:
        result = lesson_transfer_loop(args.workdir, args.experiment, spec, args.lesson_transfer_epochs)
        print(json.dumps(result))
        return
    if "view" in spec or (args.workdir / "results" / spec["dataset"] / "split").is_dir():
        train, val = tabular_data(args.workdir, spec)
        model = build_tabular(spec, train)
    else:
        from dlwf.steps import images

        classes, train, val = images.load_data(
            str(args.workdir / "results" / spec["dataset"] / "prepared"), spec["training"]["validation"] == "test"
        )
        model = training.build(spec, train[0].shape[1:], classes["n_classes"])
    training.compile_model(model, spec["training"])
    # same callbacks as the workflow's job, TensorBoard logging included when configured
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        history = training.fit(
            model, train[0], train[1], spec["training"], val, scratch if spec["training"].get("tensorboard") else None
        )
        seconds = time.perf_counter() - start
        model.save(Path(scratch) / "model.keras")
        saved = time.perf_counter()
    print(
        json.dumps(
            {
                "experiment": args.experiment,
                "fit_seconds": seconds,
                "epochs": len(history),
                "final_loss": float(history["loss"].iloc[-1]),
                "import_seconds": imported - STARTED,
                "load_build_seconds": start - imported,
                "save_seconds": saved - start - seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
