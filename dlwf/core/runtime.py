"""Set up TensorFlow before it starts: thread pools, determinism, quiet logs.

Call :func:`configure_tensorflow` before anything imports TensorFlow or Keras: TensorFlow
fixes its thread pools on first use, and Snakemake's ``OMP_NUM_THREADS`` does not limit it.
"""

from __future__ import annotations

import os

_device = "unknown"


def device() -> str:
    """The device :func:`configure_tensorflow` found ('unknown' before it ran)."""
    return _device


def configure_tensorflow(threads: int, deterministic: bool = True) -> str:
    """Limit TensorFlow to ``threads`` threads, enable op determinism; return the device name."""
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
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    global _device
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        _device = f"GPU:{details.get('device_name', gpus[0].name)}"
    else:
        _device = f"CPU ({threads} thread{'s' if threads > 1 else ''})"
    return _device
