"""Atomic file writes and small readers: a failed step never leaves a half-written file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _current_umask() -> int:
    """Return the process umask without changing it (Linux), else via a brief os.umask call."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; move it onto ``dest`` only on success."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else "".join(dest.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".part{suffix}", dir=dest.parent)
    os.close(fd)
    # mkstemp creates 0600 files; results are shared, so give them the usual umask-based mode
    os.chmod(tmp, 0o666 & ~_current_umask())
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(data: Any, dest: str | os.PathLike) -> None:
    """Write ``data`` as sorted, indented JSON atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Return the parsed JSON content of ``path``."""
    return json.loads(Path(path).read_text())


def save_npy(array, dest: str | os.PathLike) -> None:
    """Write a numpy array to an ``.npy`` file atomically (plain arrays only: never pickled)."""
    import numpy as np

    with atomic_path(dest, suffix=".npy") as tmp:
        np.save(tmp, array, allow_pickle=False)


def write_csv(frame, dest: str | os.PathLike, index: bool = False) -> None:
    """Write a pandas DataFrame to CSV atomically."""
    with atomic_path(dest) as tmp:
        frame.to_csv(tmp, index=index)


# A job's backup of its progress (dlwf.nn.resume) lives in this directory inside the directory of
# its outputs: results/<dataset>/<experiment>/.backup/ (dlwf.plan.layout.backup_dir). It is never a
# rule output, so Snakemake leaves it alone when it deletes a killed job's outputs.
BACKUP_DIR = ".backup"


def backup_dir(outputs_dir: str | os.PathLike) -> str:
    """The backup directory of the job whose outputs are in ``outputs_dir``."""
    return f"{Path(outputs_dir).as_posix()}/{BACKUP_DIR}"


# Print resolution: the report pages show figures at the size they were drawn (see
# dlwf.report.notebook.display_width), so 200 dpi keeps them sharp on screens and on paper.
FIGURE_DPI = 200


def save_figure(fig, dest: str | os.PathLike, dpi: int = FIGURE_DPI) -> None:
    """Save a matplotlib figure atomically as PNG (``dpi`` recorded in the file) and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(dest, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)


# files that file managers and cameras leave in folders; never data
JUNK_FILES = {"thumbs.db", "desktop.ini"}


def is_listed(name: str) -> bool:
    """Whether a file of a data folder counts: not hidden (.DS_Store, ._x) and not a file manager's junk."""
    parts = Path(name).parts
    return not any(p.startswith(".") for p in parts) and parts[-1].lower() not in JUNK_FILES and "__MACOSX" not in parts


def folder_files(root: str | os.PathLike) -> list[str]:
    """Every file under ``root`` that counts (see :func:`is_listed`), as sorted paths."""
    root = Path(root)
    return sorted(str(p) for p in root.rglob("*") if p.is_file() and is_listed(str(p.relative_to(root))))


def md5sum(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Return the hex md5 digest of a file."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()
