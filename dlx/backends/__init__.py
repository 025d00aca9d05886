"""Backend selection: by name, by the ``DLX_BACKEND`` environment variable, or "auto".

>>> import dlx.backends as B
>>> B.current().name                     # doctest: +SKIP
'numpy'
>>> with B.use("emulated"):               # doctest: +SKIP
...     ...

Names: ``numpy`` (always), ``cupy`` (needs CuPy and a working CUDA device), ``emulated``
(the CUDA kernels compiled for the host CPU; needs a C++ compiler) and ``auto`` (cupy when
CuPy is installed and ``cupy.is_available()`` is true, else numpy). CuPy is imported only
when asked for or probed by "auto".
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from dlx.backends.blas_spin import shorten_spin

shorten_spin()  # before NumPy loads, and with it OpenBLAS (see blas_spin)

from dlx.backends.base import Backend, as_pair, conv_output_size  # noqa: E402
from dlx.backends.inputs import (default_dtype, get_default_dtype,  # noqa: E402
                                 resolve_float_dtype, set_default_dtype)
from dlx.errors import BackendUnavailableError, ConfigError  # noqa: E402

__all__ = ["Backend", "as_pair", "conv_output_size", "current", "get", "set_backend", "use",
           "backend_of", "available", "NAMES", "default_dtype", "get_default_dtype",
           "resolve_float_dtype", "set_default_dtype"]

NAMES = ("numpy", "cupy", "emulated")
_instances: dict[str, Backend] = {}
_current: Backend | None = None


def _create(name: str) -> Backend:
    if name == "numpy":
        from dlx.backends.numpy_backend import NumpyBackend

        return NumpyBackend()
    if name == "cupy":
        from dlx.backends.cupy_backend import CupyBackend

        return CupyBackend()
    if name == "emulated":
        from dlx.backends.emulated_backend import EmulatedBackend

        return EmulatedBackend()
    raise ConfigError(f"unknown backend {name!r}; expected one of "
                      f"{', '.join(NAMES + ('auto',))}")


def _resolve_auto() -> str:
    ok, _ = cupy_status()
    return "cupy" if ok else "numpy"


def cupy_status() -> tuple[bool, str]:
    """(usable, reason): whether the CuPy backend can run here, and why not if it cannot."""
    try:
        import cupy
    except ImportError as exc:
        return False, (f"CuPy is not installed ({exc}); install dlx[cuda12] or dlx[cuda13] "
                       "on a machine with an NVIDIA GPU")
    try:
        if not cupy.is_available():
            return False, ("CuPy is installed but no usable CUDA device was found "
                           "(cupy.is_available() is False: no NVIDIA driver or no GPU)")
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError and friends derive from RuntimeError
        return False, f"CuPy cannot reach a CUDA device: {type(exc).__name__}: {exc}"
    return True, "ok"


def get(name: str = "auto") -> Backend:
    """The backend called ``name`` (one instance per process)."""
    if isinstance(name, Backend):
        return name
    name = str(name).lower()
    if name == "auto":
        name = _resolve_auto()
    if name not in _instances:
        _instances[name] = _create(name)
    return _instances[name]


def env_backend_name(default: str) -> str:
    """The backend ``DLX_BACKEND`` names (``default`` when unset or empty); an unknown name
    is a ConfigError that names the variable."""
    name = os.environ.get("DLX_BACKEND", "").strip().lower() or default
    if name not in NAMES + ("auto",):
        raise ConfigError(f"environment variable DLX_BACKEND={os.environ['DLX_BACKEND']!r}: "
                          f"unknown backend {name!r}; expected one of "
                          f"{', '.join(NAMES + ('auto',))}")
    return name


def current() -> Backend:
    """The active backend (first use: ``DLX_BACKEND``, else numpy)."""
    global _current
    if _current is None:
        _current = get(env_backend_name("numpy"))
    return _current


def set_backend(name: str | Backend) -> Backend:
    """Make ``name`` the active backend and return it."""
    global _current
    _current = get(name)
    return _current


@contextlib.contextmanager
def use(name: str | Backend) -> Iterator[Backend]:
    """Context manager: run the block with ``name`` as the active backend."""
    global _current
    previous = current()
    _current = get(name)
    try:
        yield _current
    finally:
        _current = previous


def backend_of(array) -> Backend:
    """The backend an array belongs to: cupy arrays -> cupy; host arrays -> the active
    backend when it is host-based (numpy or emulated), else numpy."""
    active = current()
    if active.owns(array):
        return active
    if type(array).__module__.startswith("cupy"):
        return get("cupy")
    return get("numpy")


def available() -> dict[str, tuple[bool, str]]:
    """Every backend name -> (usable here, reason)."""
    result = {"numpy": (True, "ok")}
    result["cupy"] = cupy_status()
    try:
        get("emulated")
        result["emulated"] = (True, "ok")
    except BackendUnavailableError as exc:
        result["emulated"] = (False, str(exc))
    except ImportError as exc:
        result["emulated"] = (False, f"not built: {exc}")
    return result
