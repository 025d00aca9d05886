"""Host inputs: what dlx accepts as an array, and the one dtype policy.

Array-likes (lists, scalars, NumPy arrays, pandas DataFrame/Series via ``to_numpy()``) are
converted; NumPy masked arrays are refused (the mask would be lost silently); complex,
object, string and datetime data are refused. A CuPy array is recognised by its type's
module, not by its attributes (a DataFrame has ``.get`` too).

Dtype policy (see docs/errors.md, "Dtypes"):

* one process-wide default floating dtype, float32 unless changed with
  :func:`set_default_dtype` or, for a block, :func:`default_dtype`; every backend reads it;
* layers and models take ``dtype=`` and ``model.to(dtype)`` casts parameters and buffers;
* integer and boolean inputs are cast to the model's dtype at the model boundary;
* floating dtypes are never mixed inside an op: a float32 and a float64 operand raise
  :class:`~dlx.errors.DtypeError`.
"""

from __future__ import annotations

import contextlib

import numpy as np

from dlx.errors import DtypeError

#: the float dtypes every backend and kernel computes in
FLOAT_DTYPES = ("float32", "float64")
_default = ["float32"]


def resolve_float_dtype(dtype, where: str = "dtype") -> str:
    """The name of a floating dtype dlx computes in ("float32", ...); DtypeError otherwise."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in FLOAT_DTYPES:
        raise DtypeError(f"{where}: expected one of {', '.join(FLOAT_DTYPES)}, got {dtype!r}")
    return name


def get_default_dtype() -> str:
    """The default floating dtype's name (float32 unless changed)."""
    return _default[0]


def set_default_dtype(dtype) -> str:
    """Make ``dtype`` (float32 or float64) the default for new tensors, parameters
    and data batches on every backend; returns the previous default's name."""
    previous, _default[0] = _default[0], resolve_float_dtype(dtype, "set_default_dtype")
    return previous


@contextlib.contextmanager
def default_dtype(dtype):
    """Context manager: ``with dlx.default_dtype("float64"): ...`` (restored on exit)."""
    previous = set_default_dtype(dtype)
    try:
        yield np.dtype(_default[0])
    finally:
        _default[0] = previous


def is_cupy_array(a) -> bool:
    return type(a).__module__.split(".")[0] == "cupy"


def host_array(a, dtype=None):
    """``a`` as a NumPy array: array-likes converted, masked arrays and non-numeric data
    refused with a DtypeError that says what to pass instead."""
    if isinstance(a, np.ma.MaskedArray):
        raise DtypeError("dlx does not take masked arrays (the mask would be dropped): fill "
                         "or remove the masked entries first, e.g. a.filled(value) or "
                         "a[~a.mask]")
    if not isinstance(a, np.ndarray) and hasattr(a, "to_numpy") \
            and type(a).__module__.split(".")[0] == "pandas":
        a = a.to_numpy()
    a = np.asarray(a)
    check_numeric(a)  # before any cast: complex -> float would drop the imaginary part
    return a if dtype is None else a.astype(dtype, copy=False)


def check_numeric(a, where: str = "dlx") -> None:
    """Refuse complex, object, string, bytes, datetime and void arrays."""
    if a.dtype.kind not in "biuf":
        raise DtypeError(f"{where}: arrays must hold real numbers (bool, integer or float), "
                         f"got dtype {a.dtype}; convert the data first (e.g. "
                         "a.astype('float32'), or np.real(a) for complex values)")
