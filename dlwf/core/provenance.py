"""What produced a result: code version, library versions, device, data checksums."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # the repository root, which holds dlwf/


def git_commit(repo: str | Path = REPO_ROOT) -> str:
    """Return the checked-out git commit of ``repo`` (suffixed '-dirty' if modified), or 'unknown'."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if status else commit


def workflow_version() -> str:
    """This workflow's release (``dlwf.__version__``; CHANGELOG.md says what each one changed)."""
    from dlwf import __version__

    return __version__


def package_version(name: str) -> str:
    """Return the installed version of distribution ``name`` or 'not installed'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def config_hash(config: dict) -> str:
    """Return a short stable hash of a JSON-serialisable config fragment."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def environment(device: str | None = None) -> dict:
    """Return Python/TensorFlow/Keras versions, platform and device for ``metrics.json``."""
    tf_dist = next(
        (n for n in ("tensorflow-cpu", "tensorflow", "tensorflow-gpu") if package_version(n) != "not installed"),
        "tensorflow",
    )
    return {
        "python": platform.python_version(),
        "tensorflow": package_version(tf_dist),
        "keras": package_version("keras"),
        "numpy": package_version("numpy"),
        "platform": platform.platform(terse=True),
        "device": device or "unknown",
    }
