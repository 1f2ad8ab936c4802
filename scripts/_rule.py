"""Shared start of every script: the repository on sys.path, output into the rule's log.

Snakemake puts this directory on sys.path and sets ``__file__`` to the real script path,
so the package ``dlwf`` in the repository root imports without installing anything.
"""

import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlwf.core.errors import (  # noqa: E402
    DownloadError,
    MissingGPUError,
    ResourceError,
    TrainingError,
    WorkflowInputError,
)

USER_ERRORS = (WorkflowInputError, DownloadError, TrainingError, MissingGPUError, ResourceError)


def _redirect_to_log(path: str):
    """Send stdout/stderr, including native TensorFlow logging, to ``path``; return the console."""
    console = os.fdopen(os.dup(2), "w", buffering=1)
    log = open(path, "w", buffering=1)
    for fd in (1, 2):
        os.dup2(log.fileno(), fd)
    sys.stdout = sys.stderr = log
    return console


FIGURES = ("curves", "confusion_plot", "scatter_train", "scatter_test")


def figure_outputs(output) -> dict[str, str]:
    """The figures an evaluation rule declares (by output name): they are drawn by its step."""
    return {name: output.get(name) for name in FIGURES if output.get(name)}


def _say(message: str, console) -> None:
    """Print the error line on the console, then into the log (which may sit on a full disk)."""
    print(message, file=console)
    try:
        print(message)
    except OSError:
        pass


def run(main, snakemake) -> None:
    """Run ``main(snakemake)`` logging to the rule's log; exit 1 with a one-line message on errors."""
    console = _redirect_to_log(snakemake.log[0]) if snakemake.log else sys.stderr
    try:
        main(snakemake)
    except USER_ERRORS as exc:
        _say(f"ERROR in rule {snakemake.rule}: {exc}", console)
        sys.exit(1)
    except Exception as exc:
        try:
            traceback.print_exc()
        except OSError:  # the log's disk is full: the message below says so
            pass
        known = _resource_message(exc, snakemake)
        if known:
            _say(f"ERROR in rule {snakemake.rule}: {known}", console)
            sys.exit(1)
        log = snakemake.log[0] if snakemake.log else "the traceback above"
        print(f"ERROR in rule {snakemake.rule}: unexpected failure, see {log}", file=console)
        sys.exit(1)
    finally:
        try:
            sys.stdout.flush()
        except OSError:
            pass


def _resource_message(exc: BaseException, snakemake) -> str | None:
    """The message for a full disk, a file this user may not write, or exhausted memory met outside the
    package's own checks (a library writing its own files, an allocation larger than the memory), else None."""
    from dlwf.core import resources

    no_space = resources.is_no_space(exc)
    if no_space is not None:
        path = no_space.filename or (snakemake.output[0] if snakemake.output else ".")
        return str(resources.no_space_error(path))
    if isinstance(exc, PermissionError):
        where = exc.filename or (snakemake.output[0] if snakemake.output else ".")
        return (
            f"{where}: permission denied ({exc.strerror or exc}); make it (and its directory) readable and "
            "writable for the user running snakemake, or run the workflow in a directory of your own"
        )
    # TensorFlow's out-of-memory (the GPU's, or the host's), named without importing TensorFlow here
    if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
        available = resources.available_memory()
        free = "unknown" if available is None else resources.human(available)
        log = snakemake.log[0] if snakemake.log else "the log"
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return (
            f"out of memory ({first}; {free} of the machine's memory available now); "
            f"use smaller inputs (e.g. subset, image_size, batch_size) or a machine with more memory. "
            f"Details in {log}"
        )
    return None


def backup(snakemake, directory: str, settings: dict):
    """The job's backup (dlwf.nn.resume.Job) in ``directory`` (dlwf.core.fileio.backup_dir of its
    outputs' directory, as dlwf.plan.layout.backup_dir says): its
    fingerprint is ``settings``, the md5 of every input file of the job and the version of the code
    it runs (its ``code`` param); the config's ``resume``
    block says whether and how often to back up (it is no param: it changes no result)."""
    from dlwf.steps import common

    code = dict(snakemake.params.items()).get("code")
    return common.backup_job(directory, settings, list(snakemake.input), snakemake.threads, snakemake.config, code)


def run_with_tensorflow(main, snakemake, announce: bool = True) -> None:
    """:func:`run`, with TensorFlow set up first (the job's threads, determinism, GPU use).

    TensorFlow fixes its thread pools when it starts, so ``main`` must import the step modules
    that use Keras inside itself, after this set-up. A job whose rule requests a GPU
    (``resources: gpu``) but sees none warns, or fails with the config's ``require_gpu: true``;
    that setting is read here, not a param: it does not change any result. ``announce=False``: the
    device line is left to ``main`` (training jobs start their log with a summary line that names it).
    """

    def configured_main(snakemake):
        from dlwf.core import runtime

        runtime.configure_tensorflow(
            snakemake.threads,
            gpus_requested=int(snakemake.resources.get("gpu", 0) or 0),
            require_gpu=bool(snakemake.config.get("require_gpu", False)),
            announce=announce,
        )
        main(snakemake)

    run(configured_main, snakemake)
