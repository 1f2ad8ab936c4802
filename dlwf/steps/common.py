"""Facts every evaluation step records: checksums of the data and the environment it ran in."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dlwf.core import provenance, runtime
from dlwf.core.fileio import md5sum, read_json_checked, write_json

MAX_LISTED_FILES = 10


def dataset_md5(raw_files: list[str]) -> dict[str, str]:
    """{file name: md5} of a dataset's files; for a folder of many files (an image folder) one md5 of
    every file's relative path and md5, under '<folder> (<n> files)'."""
    if len(raw_files) <= MAX_LISTED_FILES:
        return {Path(p).name: md5sum(p) for p in raw_files}
    root = os.path.commonpath(raw_files)
    digest = hashlib.md5()
    for path in sorted(raw_files):
        digest.update(f"{os.path.relpath(path, root)}\t{md5sum(path)}\n".encode())
    return {f"{Path(root).name} ({len(raw_files)} files)": digest.hexdigest()}


def test_set(path: str | Path) -> dict:
    """{file, md5} of the file holding the evaluation samples (records compare only on equal md5s)."""
    return {"file": Path(path).name, "md5": md5sum(path)}


def environment() -> dict:
    """Library versions, platform, the device TensorFlow was configured with, the GPUs the job
    requested and saw, and any warning about them (a requested GPU that was missing)."""
    return {**provenance.environment(runtime.device()), **runtime.gpu_status()}


def training_environment(path: str | Path | None) -> dict | None:
    """The training job's environment from its train_environment.json (None without one)."""
    if not path:
        return None
    return read_json_checked(
        path,
        ("device",),
        "train_environment.json of the training job",
        "delete it and run snakemake again so the experiment trains anew",
    )


def write_environment(path: str | Path, extra: dict | None = None) -> dict:
    """Write :func:`environment` (and ``extra``, e.g. what a resumed job resumed) to ``path`` (a
    training job's ``train_environment.json``) and return it."""
    record = {**environment(), **(extra or {})}
    write_json(record, path)
    return record


def fingerprint(settings: dict, inputs, threads: int, code: str | None = None) -> dict:
    """What a job's result depends on, to tell whether a backup is this job's (:mod:`dlwf.nn.resume`):
    its settings, the md5 of every input file, the version of the code it runs (the rule's ``code``
    param, :func:`dlwf.plan.code.code_version`), library versions, its TensorFlow threads and device.
    Not the platform string, which names the kernel of the node."""
    software = provenance.environment(runtime.device())
    software.pop("platform", None)
    software["keras_tuner"] = provenance.package_version("keras-tuner")
    return {
        "settings": settings,
        "inputs": {str(p): md5sum(p) for p in sorted({str(p) for p in inputs})},
        "software": software,
        "threads": int(threads),
        "code": code,
    }


def backup_job(directory: str | Path, settings: dict, inputs, threads: int, config: dict, code: str | None = None):
    """The backup (:class:`dlwf.nn.resume.Job`) of a training job, by the config's ``resume`` block
    (``enabled``, ``every_seconds``; not params: they change no result)."""
    from dlwf.nn import resume  # TensorFlow: only training jobs get here

    options = config.get("resume") or {}
    return resume.Job(
        Path(directory),
        fingerprint(settings, inputs, threads, code),
        every_seconds=float(options.get("every_seconds", 10.0)),
        enabled=bool(options.get("enabled", True)),
    )


def save_outputs(model_file: str, inputs: dict, dest: str) -> dict:
    """Reload the saved model from ``model_file`` (safe mode, as anyone it is shared with would) and
    write its outputs on each split of ``inputs`` (split -> model inputs) to the .npz file ``dest``,
    with its parameter counts: what evaluation needs, so that evaluation runs without TensorFlow."""
    import numpy as np

    from dlwf.core.fileio import atomic_path
    from dlwf.nn.model_io import load_model_checked
    from dlwf.nn.training import tensors

    model = load_model_checked(model_file)
    arrays = {split: np.asarray(model.predict(tensors(x), verbose=0), dtype=np.float32) for split, x in inputs.items()}
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    arrays.update(
        n_parameters=np.asarray(model.count_params()),
        n_trainable_parameters=np.asarray(trainable),
        model_md5=np.asarray(md5sum(model_file)),
    )
    with atomic_path(dest, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
    return arrays


def load_outputs(
    path: str, splits: list[str], rows: dict[str, int] | None = None, model_file: str | None = None
) -> dict:
    """The model outputs saved by :func:`save_outputs` (no pickles), checked: every split present,
    one row per sample (``rows``: split -> expected count), finite numbers, and computed from the
    ``model_file`` that is there now (a model replaced after training is named)."""
    import numpy as np

    from dlwf.core.errors import WorkflowInputError

    fix = "delete it (and the model) and run snakemake again"
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise WorkflowInputError(f"{path}: not a model outputs file ({exc}); {fix}") from exc
    missing = [s for s in splits + ["n_parameters"] if s not in arrays]
    if missing:
        raise WorkflowInputError(f"{path}: no outputs for {missing}; {fix}")
    for split, expected in (rows or {}).items():
        if len(arrays[split]) != expected:
            raise WorkflowInputError(f"{path}: {len(arrays[split])} outputs for the {expected} {split} samples; {fix}")
    for split in splits:
        if not np.all(np.isfinite(arrays[split])):
            raise WorkflowInputError(f"{path}: the model's outputs on the {split} samples are not all finite; {fix}")
    if model_file is not None and str(arrays.get("model_md5", "")) != md5sum(model_file):
        raise WorkflowInputError(
            f"{model_file}: not the model that was trained (its md5 differs from the one {path} was computed "
            "from); it is corrupt, truncated or was replaced: delete it and run snakemake again so the rule "
            "that makes it trains the model anew"
        )
    return arrays


def model_card(record: dict, data: dict, settings: dict, model_file: str, card_out: str) -> str:
    """Write the model card of a trained model (markdown): what it learned from, what it takes, how
    well it does against the baseline, and how to load it and predict (the lesson's "share the model").

    ``record`` is its metrics.json record, ``data`` the columns.json (tables) or classes.json (images)
    of its data. Written by the evaluation, beside metrics.json.
    """
    from pathlib import Path

    from dlwf.core.fileio import atomic_path

    experiment = record["experiment"]
    primary, baseline = record["primary_metric"], record.get("baseline") or {}
    baseline_value = baseline.get(primary["name"])
    lines = [
        f"# Model card: {experiment}",
        "",
        "## Data",
        f"- dataset `{record['dataset']}`; files and md5: "
        + ", ".join(f"`{name}` {md5}" for name, md5 in record["provenance"]["dataset_md5"].items()),
        f"- evaluated on `{record['test_set']['file']}` (md5 {record['test_set']['md5']})",
        "",
        "## Inputs and outputs",
    ]
    if "image_shape" in data:
        lines += [
            f"- input: RGB images of {data['image_shape'][0]}x{data['image_shape'][1]} pixels, scaled to [0, 1] "
            "(pixel value / 255), as an array of shape (N, height, width, 3)",
            f"- output: one score per class ({'logits' if settings['training']['from_logits'] else 'probabilities'}),"
            f" in this order: {', '.join(data['class_names'])}",
        ]
    else:
        inputs = f"an array of shape (N, {len(data['numeric'])}) with the columns {', '.join(data['numeric'])}"
        if data["categorical_inputs"]:
            inputs = (
                "a dict: 'features' = "
                + inputs
                + "; "
                + "; ".join(
                    f"'{name}' = the text of column `{column}`, shape (N, 1)"
                    for name, column in data["categorical_inputs"].items()
                )
            )
        lines.append(f"- input: {inputs} (raw values: any scaling is inside the model)")
        if data["task"] == "classification":
            lines.append(f"- output: one probability per class, in this order: {', '.join(data['class_names'])}")
        else:
            lines.append(f"- output: the predicted `{data['target']}`")
    lines += [
        "",
        "## Performance",
        f"- {primary['name']} {primary['value']:.4g} on the test set; baseline ({baseline.get('name', '?')}) "
        + (f"{baseline_value:.4g}" if baseline_value is not None else "n/a"),
        f"- {record['n_parameters']:,} parameters, {record['epochs_run']} epochs",
        f"- settings hash {record['provenance']['config_hash']}, git commit {record['provenance']['git_commit']}",
        "",
        "## Use",
        "```python",
        "import keras",
        f'model = keras.models.load_model("{Path(model_file).name}")  # safe mode: standard layers only',
        "predictions = model.predict(inputs)  # inputs as described above",
        "```",
        f"The workflow does this for new data with a `predict:` entry naming `{experiment}` (see the README).",
        f"model.keras md5: {md5sum(model_file)}",
        "",
    ]
    text = "\n".join(lines)
    with atomic_path(card_out) as tmp:
        tmp.write_text(text)
    return text
