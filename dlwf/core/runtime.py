"""Set up TensorFlow before it starts: thread pools, determinism, GPU memory, quiet logs.

Call :func:`configure_tensorflow` before anything imports TensorFlow or Keras: TensorFlow
fixes its thread pools on first use, and Snakemake's ``OMP_NUM_THREADS`` does not limit it.
It also records what the job ran on (:func:`device`, :func:`gpu_status`) for ``metrics.json``.
"""

from __future__ import annotations

import os

from .errors import MissingGPUError

_device = "unknown"
_gpu_status: dict = {"gpu_requested": 0, "gpus_visible": 0, "warnings": []}


def device() -> str:
    """The device :func:`configure_tensorflow` found ('unknown' before it ran)."""
    return _device


def gpu_status() -> dict:
    """{gpu_requested, gpus_visible, warnings} of the last :func:`configure_tensorflow` call."""
    return {**_gpu_status, "warnings": list(_gpu_status["warnings"])}


def print_summary(line: str, notes=()) -> None:
    """Print the line a job's log starts with (what it trains, on what, where), then the job's GPU
    warnings (:func:`configure_tensorflow` with ``announce=False`` left them for here) and ``notes``
    (e.g. that a stale backup was discarded)."""
    print(line, flush=True)
    for warning in _gpu_status["warnings"]:
        print(f"WARNING: {warning}", flush=True)
    for note in notes:
        print(note, flush=True)


def missing_gpu_message(requested: int, cuda_build: bool, visible_devices: str | None) -> str:
    """One line: the job asked for ``requested`` GPUs, TensorFlow sees none, and the likely reason."""
    plural = "s" if requested > 1 else ""
    what = (
        f"this job requested {requested} GPU{plural} (resources: gpu={requested}) but TensorFlow sees none, "
        f"so it runs on the CPU"
    )
    if not cuda_build:
        why = (
            "the installed TensorFlow is a CPU-only build; on a GPU host use the GPU build "
            "(make gpu-venv, requirements-gpu.txt) or the GPU container"
        )
    elif visible_devices is not None and visible_devices.strip() in ("", "-1", "NoDevFiles"):
        why = f"CUDA_VISIBLE_DEVICES={visible_devices!r} hides every GPU"
    else:
        why = (
            "TensorFlow has CUDA support but finds no usable GPU: check that the job runs on a GPU node "
            "and that nvidia-smi works there"
        )
    return f"{what}: {why}"


def configure_tensorflow(
    threads: int, deterministic: bool = True, gpus_requested: int = 0, require_gpu: bool = False, announce: bool = True
) -> str:
    """Limit TensorFlow to ``threads`` threads, enable op determinism, let every visible GPU's memory
    grow as needed (so several jobs can share a GPU); return the device name.

    ``gpus_requested`` is the job's ``resources: gpu``. When it is positive and TensorFlow sees no
    GPU, the job warns (printed, and in :func:`gpu_status`) and goes on on the CPU, or raises
    :class:`~dlwf.core.errors.MissingGPUError` if ``require_gpu``. ``announce=False`` leaves out the
    line naming TensorFlow's version and the device (a training job's summary line names them) and
    prints the missing-GPU warning later, after that summary line (see :func:`gpu_status`).
    """
    threads = max(1, int(threads))
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised in this process (tests): env vars were set
        pass
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:  # by default TensorFlow reserves (nearly) all of a GPU's memory for the first job on it
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # the GPU was initialised already in this process (tests)
            pass
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    global _device, _gpu_status
    warnings = []
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        _device = f"GPU:{details.get('device_name', gpus[0].name)}"
    else:
        _device = f"CPU ({threads} thread{'s' if threads > 1 else ''})"
        if gpus_requested > 0:
            message = missing_gpu_message(
                gpus_requested, tf.test.is_built_with_cuda(), os.environ.get("CUDA_VISIBLE_DEVICES")
            )
            if require_gpu:
                raise MissingGPUError(
                    f"{message}. require_gpu: true in the config makes this an error; "
                    f"set it to false to let such jobs train on the CPU"
                )
            warnings.append(message)
            if announce:  # else the job prints it after its summary line (print_summary)
                print(f"WARNING: {message}", flush=True)
    _gpu_status = {"gpu_requested": int(gpus_requested), "gpus_visible": len(gpus), "warnings": warnings}
    if announce:
        print(
            f"TensorFlow {tf.__version__} on {_device}"
            + (f" ({len(gpus)} GPU(s) visible, memory growth on)" if gpus else ""),
            flush=True,
        )
    return _device
