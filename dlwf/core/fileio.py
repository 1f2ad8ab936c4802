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

from .errors import WorkflowInputError
from .resources import is_no_space, no_space_error

# what a message says about a file the workflow made that is not what it should be
REBUILD = "delete it and run snakemake again so the rule that makes it runs anew"


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
    """Yield a temporary path next to ``dest``; move it onto ``dest`` only on success.

    This is the workflow's one writer: a full disk (or quota) while writing ends in a
    :class:`~dlwf.core.errors.ResourceError` naming ``dest`` and the free space, and nothing is kept.
    """
    dest = Path(dest)
    suffix = suffix if suffix is not None else "".join(dest.suffixes) or ".tmp"
    tmp_path = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".part{suffix}", dir=dest.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        # mkstemp creates 0600 files; results are shared, so give them the usual umask-based mode
        os.chmod(tmp, 0o666 & ~_current_umask())
        yield tmp_path
        os.replace(tmp_path, dest)
    except Exception as exc:
        if is_no_space(exc) is not None:
            raise no_space_error(dest) from exc
        raise
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


def write_json(data: Any, dest: str | os.PathLike) -> None:
    """Write ``data`` as sorted, indented JSON atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Return the parsed JSON content of ``path``."""
    return json.loads(Path(path).read_text())


def read_json_checked(
    path: str | os.PathLike, required: tuple[str, ...] | list[str] = (), what: str = "JSON file", fix: str = REBUILD
) -> dict:
    """Return the JSON object in ``path``, a file the workflow wrote and reads back.

    A file that is missing, not JSON (truncated, replaced by garbage), not an object or lacks a
    ``required`` key raises WorkflowInputError naming the file, what is wrong and ``fix``.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise WorkflowInputError(f"{path}: file not found; run snakemake again to make it") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise WorkflowInputError(
            f"{path}: not a valid {what} ({detail}); it is truncated or was replaced: {fix}"
        ) from exc
    if not isinstance(data, dict):
        raise WorkflowInputError(f"{path}: not a valid {what} (a JSON {type(data).__name__}, not an object); {fix}")
    missing = [key for key in required if key not in data]
    if missing:
        raise WorkflowInputError(f"{path}: not a valid {what} (key(s) {missing} missing); {fix}")
    return data


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
