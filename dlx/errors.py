"""The dlx error family: every error dlx raises on bad input derives from `DlxError`.

Messages name the layer or function, what was expected and what was received.
"""


class DlxError(Exception):
    """Base class of every error raised by dlx."""


class ShapeError(DlxError, ValueError):
    """An array or tensor had the wrong shape."""


class DtypeError(DlxError, TypeError):
    """An array or tensor had the wrong dtype."""


class ConfigError(DlxError, ValueError):
    """An option or argument had a value outside what is accepted."""


class BackendUnavailableError(DlxError, RuntimeError):
    """A backend was asked for on a machine where it cannot run; the message says why."""


class CheckpointError(DlxError, ValueError):
    """A checkpoint file is missing, malformed, or unsafe to load."""


class TrainingDivergedError(DlxError, FloatingPointError):
    """The cost became NaN or infinite during training."""


class LabelError(DlxError, ValueError):
    """Targets or labels had values a loss or metric cannot take (out of range, not 0/1,
    not integers, not finite)."""


class DataError(DlxError, ValueError):
    """A data set held values that cannot be trained on or evaluated (NaN or infinite)."""
