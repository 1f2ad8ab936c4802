"""What the machine has to give: free disk space and available memory, in words for messages.

A full disk or a size claim larger than the memory must end in a message naming the path and
the amounts (:class:`dlwf.core.errors.ResourceError`), never in an ``OSError``/``MemoryError``
traceback.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from .errors import ResourceError

# errno values of a write that failed for lack of space (EDQUOT: a disk quota on a cluster)
NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def human(n_bytes: float) -> str:
    """``n_bytes`` as '1.5 GiB', '12.0 KiB', '3 bytes'."""
    if n_bytes < 1024:
        return f"{int(n_bytes)} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        n_bytes /= 1024
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.1f} {unit}"
    raise AssertionError("unreachable")


def free_disk(path: str | os.PathLike) -> tuple[str, int | None]:
    """(the existing directory ``path`` lies in, its free bytes; None when unknown)."""
    where = Path(os.path.abspath(path))
    while not where.exists() and where != where.parent:
        where = where.parent
    if where.is_file():
        where = where.parent
    try:
        return str(where), shutil.disk_usage(where).free
    except OSError:
        return str(where), None


def is_no_space(exc: BaseException | None) -> OSError | None:
    """The OSError 'no space left on device' (or 'disk quota exceeded') behind ``exc``, if any.

    Libraries (Keras, h5py, pandas) sometimes wrap it in their own exception; the chain is followed.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            return exc
        if "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc):
            return exc if isinstance(exc, OSError) else OSError(errno.ENOSPC, str(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def no_space_error(path: str | os.PathLike) -> ResourceError:
    """The message for a write to ``path`` that found the disk full."""
    directory, free = free_disk(path)
    amount = "unknown" if free is None else human(free)
    return ResourceError(
        f"{path}: no space left on the device while writing it ({amount} free in {directory}); free some "
        "space (or run the workflow on a larger disk) and run snakemake again. Nothing partial was kept"
    )


def available_memory() -> int | None:
    """Bytes of memory this process may still use: MemAvailable, or less under a cgroup limit (None if unknown)."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    try:  # cgroup v2 (containers, SLURM jobs): the limit less what cannot be reclaimed (not the page cache)
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            stat = dict(line.split() for line in Path("/sys/fs/cgroup/memory.stat").read_text().splitlines())
            left = max(int(limit) - int(stat["anon"]), 0)
            available = left if available is None else min(available, left)
    except (OSError, ValueError, KeyError):
        pass
    return available


def check_memory(n_bytes: int, what: str, fix: str = "") -> None:
    """Raise ResourceError naming ``what`` when ``n_bytes`` exceed the memory available now."""
    available = available_memory()
    if available is not None and n_bytes > available:
        raise ResourceError(
            f"{what} needs {human(n_bytes)} of memory, but only {human(available)} is available"
            + (f"; {fix}" if fix else "")
        )
