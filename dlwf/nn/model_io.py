"""Model files: ``.keras`` archives written atomically and loaded back in Keras safe mode only."""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import atomic_path


def save_model(model: keras.Model, dest: str | Path) -> None:
    """Save ``model`` to the ``.keras`` file ``dest`` atomically (nothing at ``dest`` if saving fails)."""
    with atomic_path(dest, suffix=".keras") as tmp:
        model.save(tmp)


def load_model_checked(path, compile: bool = True) -> keras.Model:
    """Return the Keras model saved in the ``.keras`` file ``path``, loaded in safe mode.

    Keras' own errors for a file that is not a model are misleading (a text file named
    ``model.keras`` gives "File not found"), so every failure becomes a WorkflowInputError that
    names the file and the fix. Safe mode refuses layers that carry Python code (``Lambda``):
    loading them could run arbitrary code, so they are refused here too, never retried unsafely.
    """
    path = Path(path)
    fix = "delete it and run snakemake again so the rule that makes it trains the model anew"
    if not path.is_file():
        raise WorkflowInputError(f"{path}: model file not found; run the training rule that makes it first")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise WorkflowInputError(
            f"{path}: not a Keras model file (a .keras file is a zip archive written by model.save); "
            f"it is corrupt, truncated or was replaced: {fix}"
        )
    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises ValueError, KeyError, TypeError, OSError ...
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "safe_mode" in str(exc):
            raise WorkflowInputError(
                f"{path}: refused to load: the model holds Python code (e.g. a Lambda layer), which Keras safe "
                "mode does not load because it could run arbitrary code; build the model from standard layers "
                f"({text.split('. ')[0][:200]})"
            ) from exc
        raise WorkflowInputError(
            f"{path}: not a loadable Keras model ({type(exc).__name__}: {text[:300]}); {fix}"
        ) from exc
