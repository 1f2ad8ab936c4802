"""Facts every evaluation step records: checksums of the data and the environment it ran in."""

from __future__ import annotations

from pathlib import Path

from dlwf.core import provenance, runtime
from dlwf.core.fileio import md5sum, read_json, write_json


def dataset_md5(raw_files: list[str]) -> dict[str, str]:
    """{file name: md5} of a dataset's downloaded files."""
    return {Path(p).name: md5sum(p) for p in raw_files}


def test_set(path: str | Path) -> dict:
    """{file, md5} of the file holding the evaluation samples (records compare only on equal md5s)."""
    return {"file": Path(path).name, "md5": md5sum(path)}


def environment() -> dict:
    """Library versions, platform, the device TensorFlow was configured with, the GPUs the job
    requested and saw, and any warning about them (a requested GPU that was missing)."""
    return {**provenance.environment(runtime.device()), **runtime.gpu_status()}


def training_environment(path: str | Path | None) -> dict | None:
    """The training job's environment from its train_environment.json (None without one)."""
    return read_json(path) if path else None


def write_environment(path: str | Path) -> dict:
    """Write :func:`environment` to ``path`` (a training job's ``train_environment.json``) and return it."""
    record = environment()
    write_json(record, path)
    return record
