"""Exceptions that carry a message meant for the workflow's user."""


class WorkflowInputError(ValueError):
    """Bad input data or configuration; the message names the file or key and the fix."""


class DownloadError(RuntimeError):
    """A dataset file could not be fetched or failed verification."""


class TrainingError(RuntimeError):
    """Training went wrong in a way the user must act on (e.g. the loss became NaN)."""


class MissingGPUError(RuntimeError):
    """A job that requested a GPU sees none while the config says ``require_gpu: true``."""


class ResourceError(RuntimeError):
    """The machine lacks what a step needs (disk space, memory); the message names the path and the amounts."""
