"""dlx: a deep-learning framework whose every layer runs unchanged on NumPy or CuPy."""

from dlx import backends, data, functional, init, nn, optim, strategy
from dlx.core import Parameter, Tensor, as_tensor, is_grad_enabled, no_grad
from dlx.errors import (BackendUnavailableError, CheckpointError, ConfigError, DataError,
                        DlxError, DtypeError, LabelError, ShapeError, TrainingDivergedError)

from dlx.backends import default_dtype, get_default_dtype, set_default_dtype

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError", "CheckpointError", "ConfigError", "DlxError", "DtypeError",
    "Parameter", "ShapeError", "Tensor", "TrainingDivergedError", "as_tensor", "backends",
    "data", "functional", "init", "is_grad_enabled", "nn", "optim", "strategy", "no_grad", "__version__",
]
__all__ += ["default_dtype", "get_default_dtype", "set_default_dtype"]
__all__ += ["DataError", "LabelError"]
