"""Shared start of every script: the repository on sys.path, output into the rule's log.

Snakemake puts this directory on sys.path and sets ``__file__`` to the real script path,
so the package ``dlwf`` in the repository root imports without installing anything.
"""

import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlwf.core.errors import DownloadError, MissingGPUError, TrainingError, WorkflowInputError  # noqa: E402

USER_ERRORS = (WorkflowInputError, DownloadError, TrainingError, MissingGPUError)


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


def run(main, snakemake) -> None:
    """Run ``main(snakemake)`` logging to the rule's log; exit 1 with a one-line message on errors."""
    console = _redirect_to_log(snakemake.log[0]) if snakemake.log else sys.stderr
    try:
        main(snakemake)
    except USER_ERRORS as exc:
        message = f"ERROR in rule {snakemake.rule}: {exc}"
        print(message)
        print(message, file=console)
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        print(f"ERROR in rule {snakemake.rule}: unexpected failure, see {snakemake.log[0]}", file=console)
        sys.exit(1)
    finally:
        sys.stdout.flush()


def backup(snakemake, directory: str, settings: dict):
    """The job's backup (dlwf.nn.resume.Job) in ``directory`` (dlwf.core.fileio.backup_dir of its
    outputs' directory, as dlwf.plan.layout.backup_dir says): its
    fingerprint is ``settings`` and the md5 of every input file of the job; the config's ``resume``
    block says whether and how often to back up (it is no param: it changes no result)."""
    from dlwf.steps import common

    return common.backup_job(directory, settings, list(snakemake.input), snakemake.threads, snakemake.config)


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
