"""Resume a killed training job where it stopped: Keras' ``BackupAndRestore``, made exact for a workflow.

Every training job (tables, images, grid points, each keras-tuner trial, transfer heads) and the
transfer feature pass keeps a backup of its progress in a directory that is NOT a rule output
(:func:`dlwf.plan.layout.backup_dir`, ``results/<dataset>/<experiment>/.backup/``): Snakemake
deletes the outputs of a killed job before it runs it again, but leaves this directory alone, so
the rerun (``--rerun-incomplete``, or the next SLURM attempt) continues after the last backed-up
epoch. The job removes the backup once all its outputs are written.

:class:`EpochBackup` is ``keras.callbacks.BackupAndRestore`` (weights and optimizer state in a
``.weights.h5`` file, ``model._initial_epoch`` on restore) with what a workflow job needs on top:

- **one consistent state**: the weights file is named by its epoch and ``state.json``, written
  atomically after it, names it; Keras writes ``latest.weights.h5`` and then the epoch, so a kill
  between the two would resume the weights of one epoch as if they were another's;
- **the history of every epoch** (Keras' ``History`` sees only the epochs of the resumed run),
  so ``history.csv`` has every epoch exactly once;
- **early stopping's state** (patience counter, best value, best epoch, best weights) and
  keras-tuner's best-epoch checkpoint, so a resumed run stops and restores as the interrupted
  one would have;
- **the finished state**: once ``fit`` ends, the final weights (after early stopping restored the
  best ones) are kept until the job's outputs are written; a kill in between does not train on;
- **TensorBoard event files** up to the backed-up epoch (:func:`restore_tensorboard` puts them
  back into the job's ``tensorboard/`` output, which Snakemake deleted), so the curves show every
  epoch once;
- **a fingerprint** of the job (:func:`prepare`): settings, the md5 of every input file (code
  included), library versions, threads and device. A backup of another configuration is
  discarded, never resumed: a rerun triggered by changed params, data or code starts at epoch 1.

Backups are written at the end of an epoch when at least ``every_seconds`` have passed since the
last one (0: every epoch), and when training ends; an epoch whose loss is not finite is never
backed up. Resuming restores that state exactly; the epochs after it see another shuffling order
(and other dropout masks) than an uninterrupted run would, because the random generators start
afresh in the new process, so a resumed model is not bit-identical to an uninterrupted one
(README, "Long runs: resume and watch"). The feature pass resumes by chunks (:class:`ChunkBackup`)
and is bit-identical.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from dlwf.core.fileio import atomic_path, read_json, write_json

FINGERPRINT_FILE = "fingerprint.json"
STATE_FILE = "state.json"
TENSORBOARD_COPY = "tensorboard"  # inside a backup directory: the event files up to the backed-up epoch


# ---------------------------------------------------------------------------- the job's backup directory


# how the log names each part of a fingerprint that differs (a clause each)
_DIFFERS = {"code": "the code it ran differs", "software": "its libraries differ", "threads": "its threads differ"}


def _differences(stored: dict | None, current: dict) -> list[str]:
    """What differs between two fingerprints, for the log, a clause each: top-level parts, and input
    files by name."""
    if not isinstance(stored, dict):
        return ["its fingerprint is missing or unreadable"]
    changed = []
    for key in sorted(set(stored) | set(current)):
        if stored.get(key) == current.get(key):
            continue
        if key == "inputs" and isinstance(stored.get(key), dict) and isinstance(current.get(key), dict):
            old, new = stored[key], current[key]
            files = sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
            shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
            changed.append(f"its input files ({shown}) differ")
        else:
            changed.append(_DIFFERS.get(key, f"its {key} differ"))
    return changed


def prepare(directory: str | os.PathLike, fingerprint: dict, log: Callable[[str], None] = print) -> bool:
    """Make ``directory`` the backup directory of the job described by ``fingerprint``.

    Return True when it holds a backup of this very job (same fingerprint) to resume from. A backup
    of another configuration (settings, inputs, code, software, threads or device differ) is removed,
    saying why, and the directory starts empty: such a backup is never resumed.
    """
    path = Path(directory)
    if path.exists():
        try:
            stored = read_json(path / FINGERPRINT_FILE)
        except (OSError, ValueError):
            stored = None
        if stored == fingerprint:  # anything besides the fingerprint is a backup to resume from
            return any(p.name != FINGERPRINT_FILE for p in path.iterdir())
        changed = _differences(stored, fingerprint)
        log(
            f"discarded the backup in {path} of an earlier, unfinished run of this job ({'; '.join(changed)} "
            "from this run's), so training starts at epoch 1"
        )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    write_json(fingerprint, path / FINGERPRINT_FILE)
    return False


def remove(directory: str | os.PathLike) -> None:
    """Remove a backup directory (the job's outputs are complete, or the backup cannot be resumed)."""
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Job:
    """The backup of one job: where it lives, the job's fingerprint, how often to back up.

    :meth:`open` prepares the directory (discarding a stale backup) and says whether there is a
    backup to resume; :meth:`callback` makes the :class:`EpochBackup` of a ``fit`` (``subdir`` for
    one of several, e.g. keras-tuner's trials); :meth:`finish` removes the backup once the job's
    outputs are written. ``resumes`` collects what was resumed, for train_environment.json.
    """

    directory: Path
    fingerprint: dict
    every_seconds: float = 10.0
    log: Callable[[str], None] = print
    enabled: bool = True
    resumes: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.directory = Path(self.directory)

    def open(self, log: Callable[[str], None] | None = None) -> bool:
        """Prepare the directory; True when it holds a backup of this job to resume. Disabled
        (config ``resume.enabled: false``): any backup is removed and nothing is resumed. ``log``
        (default: the job's) gets the line saying why a stale backup was discarded."""
        if not self.enabled:
            remove(self.directory)
            self.directory.mkdir(parents=True, exist_ok=True)
            return False
        return prepare(self.directory, self.fingerprint, log or self.log)

    def state(self, subdir: str | None = None) -> dict | None:
        return read_state(self.directory / subdir if subdir else self.directory) if self.enabled else None

    def callback(self, callbacks=(), subdir: str | None = None) -> EpochBackup | None:
        """The backup callback of one ``fit`` (None when disabled); put it after ``callbacks``."""
        if not self.enabled:
            return None
        return EpochBackup(
            self.directory / subdir if subdir else self.directory, callbacks, self.every_seconds, self.log
        )

    def chunks(self, part: str) -> ChunkBackup | None:
        """The chunk backup of one pass over many inputs (None when disabled)."""
        return ChunkBackup(self.directory, part, self.every_seconds) if self.enabled else None

    def finish(self) -> None:
        remove(self.directory)

    def record(self) -> dict:
        """What train_environment.json says about resuming: every resume (epochs done before it)."""
        return {"resumed": self.resumes}


def read_state(directory: str | os.PathLike) -> dict | None:
    """The state backed up in ``directory`` (see :class:`EpochBackup`), or None when there is none."""
    path = Path(directory) / STATE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None  # written atomically, so only a foreign file gets here: start afresh


def _write_state(directory: Path, state: dict) -> None:
    with atomic_path(directory / STATE_FILE) as tmp:
        tmp.write_text(json.dumps(state, indent=1) + "\n")  # key order kept: history columns stay in order


def history_frame(rows: list[dict]):
    """The history table (1-based 'epoch' first, then every logged value) of backed-up history rows."""
    import pandas as pd

    frame = pd.DataFrame([{k: v for k, v in row.items() if k != "epoch"} for row in rows])
    frame.insert(0, "epoch", np.asarray([row["epoch"] for row in rows], dtype=np.int64))
    return frame


# ---------------------------------------------------------------------------- TensorBoard event files


def _event_files(directory: Path) -> list[Path]:
    """The files TensorBoard callbacks wrote under ``directory`` (not hidden ones such as Snakemake's markers)."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def snapshot_tensorboard(log_dir: str | os.PathLike, backup: Path, previous: dict[str, int]) -> dict[str, int]:
    """Copy what the event files under ``log_dir`` gained since the last snapshot into ``backup``; return
    {relative path: size}. Event files only grow, so only the new bytes are copied."""
    log_dir = Path(log_dir)
    sizes = {}
    for path in _event_files(log_dir):
        rel = str(path.relative_to(log_dir))
        size = path.stat().st_size
        copy = backup / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        start = min(previous.get(rel, 0), size)
        with open(path, "rb") as source, open(copy, "r+b" if copy.exists() else "wb") as target:
            target.truncate(start)
            target.seek(start)
            source.seek(start)
            shutil.copyfileobj(source, target)
            target.truncate(size)  # bytes written after the stat belong to the next snapshot
        sizes[rel] = size
    return sizes


def restore_tensorboard(directory: str | os.PathLike, log: Callable[[str], None] = print) -> int:
    """Put the TensorBoard event files of the backup in ``directory`` back into the log directory they
    came from, as they were at the backed-up epoch (files written after it are removed); return how many."""
    state = read_state(directory)
    if not state or not state.get("tensorboard"):
        return 0
    log_dir, files = Path(state["tensorboard"]["log_dir"]), state["tensorboard"]["files"]
    backup = Path(directory) / TENSORBOARD_COPY
    for path in _event_files(log_dir):
        if str(path.relative_to(log_dir)) not in files:
            path.unlink()  # written by the interrupted run after its last backup
    for rel, size in files.items():
        target = log_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(backup / rel, "rb") as source, atomic_path(target) as tmp, open(tmp, "wb") as out:
            out.write(source.read(size))
    if files:
        log(f"restored {len(files)} TensorBoard event file(s) of epochs 1-{state['epochs_done']} into {log_dir}")
    return len(files)


# ---------------------------------------------------------------------------- the callback


class EpochBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` with one consistent state per backup (see the module docstring).

    ``callbacks`` are the other callbacks of the same ``fit``: the state of its EarlyStopping and of
    keras-tuner's SaveBestEpoch is backed up with the weights, and the event files of its TensorBoard
    callback. Put this callback after them (it must see an epoch's early-stopping decision and the
    flushed event files). :meth:`history` is the history of every epoch, resumed ones included.
    """

    def __init__(
        self, directory: str | os.PathLike, callbacks=(), every_seconds: float = 0.0, log: Callable[[str], None] = print
    ):
        super().__init__(str(directory), save_freq="epoch", delete_checkpoint=False)
        self.directory = Path(directory)
        self.every_seconds = float(every_seconds)
        self.log = log
        others = list(callbacks)
        self.early_stopping = [c for c in others if isinstance(c, keras.callbacks.EarlyStopping)]
        self.best_savers = [c for c in others if type(c).__name__ == "SaveBestEpoch"]  # keras-tuner's
        self.tensorboards = [c for c in others if isinstance(c, keras.callbacks.TensorBoard)]
        self.rows: list[dict] = []
        self.resumed_from: int | None = None  # epochs done before this process, when it resumed
        self.resumes: list[int] = []  # every resume of this training so far (epochs done at each)
        self._tensorboard_sizes: dict[str, int] = {}
        self._last_save = time.monotonic()
        self._seconds_before = 0.0
        self._started = time.monotonic()

    # -- restore

    def on_train_begin(self, logs=None):
        self._started = self._last_save = time.monotonic()
        state = read_state(self.directory)
        if state is None:
            return
        model = self.model
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)  # its variables must exist to load their values
        model.load_weights(self.directory / state["weights"])
        epochs = self.params.get("epochs")
        done = int(state["epochs_done"])
        model._initial_epoch = epochs if state["finished"] else done
        self.rows = list(state["history"])
        self.resumed_from = done
        self.resumes = list(state.get("resumes", [])) + [done]
        self._seconds_before = float(state.get("seconds", 0.0))
        self._tensorboard_sizes = dict((state.get("tensorboard") or {}).get("files", {}))
        for callback, saved in zip(self.early_stopping, state.get("early_stopping", []), strict=False):
            callback.wait, callback.stopped_epoch = saved["wait"], saved["stopped_epoch"]
            callback.best, callback.best_epoch = saved["best"], saved["best_epoch"]
            if saved.get("best_weights"):
                with np.load(self.directory / saved["best_weights"], allow_pickle=False) as data:
                    callback.best_weights = [data[f"arr_{i}"] for i in range(len(data.files))]
        for callback, saved in zip(self.best_savers, state.get("best_savers", []), strict=False):
            callback.best_value = saved["best_value"]
            if saved.get("file"):
                Path(callback.filepath).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.directory / saved["file"], callback.filepath)
        if state["finished"]:
            self.log(
                f"resumed from the backup in {self.directory}: training had finished after epoch {done} "
                "before the job was interrupted; its final weights are used, nothing is trained again"
            )
        else:
            self.log(
                f"resumed from the backup in {self.directory}: epochs 1-{done} were done before the job was "
                f"interrupted; training goes on with epoch {done + 1} of {epochs}"
            )

    # -- back up

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self.rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}})
        if not all(math.isfinite(v) for v in self.rows[-1].values()):
            return  # the job fails on a non-finite loss; never resume from it
        last = self.params.get("epochs") is not None and epoch + 1 >= self.params["epochs"]
        due = time.monotonic() - self._last_save >= self.every_seconds
        if due and not last:  # the last epoch is backed up as finished at on_train_end
            self._save(finished=False)

    def on_train_batch_end(self, batch, logs=None):
        pass  # epochs only (save_freq="epoch")

    def on_train_end(self, logs=None):
        if self.rows:
            self._save(finished=True)

    def _save(self, finished: bool) -> None:
        done = int(self.rows[-1]["epoch"])
        self.directory.mkdir(parents=True, exist_ok=True)
        tag = f"{done:05d}{'-final' if finished else ''}"
        keep = {FINGERPRINT_FILE, STATE_FILE, TENSORBOARD_COPY}
        weights = f"epoch-{tag}.weights.h5"
        with atomic_path(self.directory / weights, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)
        keep.add(weights)
        stopping = []
        for i, callback in enumerate(self.early_stopping):
            saved = {
                "wait": int(callback.wait),
                "stopped_epoch": int(callback.stopped_epoch),
                "best": None if callback.best is None else float(callback.best),
                "best_epoch": int(callback.best_epoch),
                "best_weights": None,
            }
            if callback.best_weights is not None:
                saved["best_weights"] = f"early_stopping-{i}-{tag}.npz"
                with atomic_path(self.directory / saved["best_weights"], suffix=".npz") as tmp:
                    np.savez(tmp, *callback.best_weights)
                keep.add(saved["best_weights"])
            stopping.append(saved)
        savers = []
        for i, callback in enumerate(self.best_savers):
            saved = {"best_value": float(callback.best_value), "file": None}
            if Path(callback.filepath).is_file():
                saved["file"] = f"best_epoch-{i}-{tag}.weights.h5"
                with atomic_path(self.directory / saved["file"], suffix=".weights.h5") as tmp:
                    shutil.copyfile(callback.filepath, tmp)
                keep.add(saved["file"])
            savers.append(saved)
        tensorboard = None
        if self.tensorboards:
            log_dir = self.tensorboards[0].log_dir
            for callback in self.tensorboards:
                for writer in getattr(callback, "_writers", {}).values():
                    writer.flush()
            self._tensorboard_sizes = snapshot_tensorboard(
                log_dir, self.directory / TENSORBOARD_COPY, self._tensorboard_sizes
            )
            tensorboard = {"log_dir": str(log_dir), "files": self._tensorboard_sizes}
        seconds = self._seconds_before + time.monotonic() - self._started
        _write_state(
            self.directory,
            {
                "epochs_done": done,
                "finished": finished,
                "weights": weights,
                "history": self.rows,
                "early_stopping": stopping,
                "best_savers": savers,
                "tensorboard": tensorboard,
                "resumes": self.resumes,
                "seconds": round(seconds, 3),
            },
        )
        for path in self.directory.iterdir():  # the previous backup's files
            if path.name not in keep and path.is_file() and not path.name.startswith("."):
                path.unlink()
        self._last_save = time.monotonic()

    def history(self):
        """Every epoch's row (the resumed ones first) as the history table."""
        return history_frame(self.rows)


# ---------------------------------------------------------------------------- the feature pass


class ChunkBackup:
    """Backs up a long pass over many inputs (the frozen base's features) in chunks aligned to its batches.

    ``part`` names the pass (train, test). :meth:`done` returns the outputs backed up so far (the
    rows of the first inputs), :meth:`add` saves the rows computed since, at most every
    ``every_seconds``. Batches are the same as in an uninterrupted pass, so the result is identical.
    """

    def __init__(self, directory: str | os.PathLike, part: str, every_seconds: float = 0.0):
        self.directory = Path(directory) / part
        self.every_seconds = float(every_seconds)
        self._last = time.monotonic()

    def _chunks(self) -> list[tuple[int, int, Path]]:
        chunks = []
        for path in sorted(self.directory.glob("rows-*.npy")) if self.directory.is_dir() else []:
            start, end = (int(v) for v in path.stem.removeprefix("rows-").split("-"))
            chunks.append((start, end, path))
        return chunks

    def done(self) -> np.ndarray | None:
        """The rows backed up so far, in order (None when none): chunks that follow each other from row 0."""
        arrays, expected = [], 0
        for start, end, path in self._chunks():
            if start != expected:
                break
            arrays.append(np.load(path, allow_pickle=False))
            expected = end
        return np.concatenate(arrays) if arrays else None

    def add(self, rows: list[np.ndarray], start: int, force: bool = False) -> bool:
        """Save ``rows`` (the outputs of inputs ``start``...) when due or ``force``; return whether saved."""
        if not rows or not (force or time.monotonic() - self._last >= self.every_seconds):
            return False
        values = np.concatenate(rows)
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.directory / f"rows-{start:09d}-{start + len(values):09d}.npy", suffix=".npy") as tmp:
            np.save(tmp, values, allow_pickle=False)
        self._last = time.monotonic()
        return True
