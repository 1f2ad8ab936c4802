"""Facts every evaluation step records: checksums of the data and the environment it ran in."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dlwf.core import provenance, runtime
from dlwf.core.fileio import md5sum, read_json, write_json

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
    return read_json(path) if path else None


def write_environment(path: str | Path) -> dict:
    """Write :func:`environment` to ``path`` (a training job's ``train_environment.json``) and return it."""
    record = environment()
    write_json(record, path)
    return record
