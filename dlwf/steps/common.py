"""Facts every evaluation step records: checksums of the data and the environment it ran in."""

from __future__ import annotations

from pathlib import Path

from dlwf.core import provenance, runtime
from dlwf.core.fileio import md5sum


def dataset_md5(raw_files: list[str]) -> dict[str, str]:
    """{file name: md5} of a dataset's downloaded files."""
    return {Path(p).name: md5sum(p) for p in raw_files}


def test_set(path: str | Path) -> dict:
    """{file, md5} of the file holding the evaluation samples (records compare only on equal md5s)."""
    return {"file": Path(path).name, "md5": md5sum(path)}


def environment() -> dict:
    """Library versions, platform and the device TensorFlow was configured with."""
    return provenance.environment(runtime.device())
