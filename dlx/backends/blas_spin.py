"""How long OpenBLAS's idle helper threads spin: a short wait, set before NumPy loads.

After each multi-threaded BLAS call OpenBLAS's helper threads busy-wait for more work
before they sleep, for 2^t TSC cycles with t = ``OPENBLAS_THREAD_TIMEOUT`` (default 28,
about 0.1 s; read once when the library loads, clamped to [4, 30]: OpenBLAS's list of
runtime variables, and OpenMathLib/OpenBLAS#5171). In a training step on the NumPy backend
the helpers that a dense layer's GEMM woke are still spinning when the next convolution
runs its chunks on dlx's own threads (:mod:`dlx.backends.cpu_threads`), so on 2 cores a
chunk thread shares its core with a spinning helper: the LeNet-5 b256 Adam step took 44-47
ms at 2 threads (slower than at 1) against 32-35 ms with a 2^20-cycle spin
(docs/benchmarks.md, "the helpers' spin").

:func:`shorten_spin` sets ``OPENBLAS_THREAD_TIMEOUT=20`` (2^20 cycles, 0.3-0.5 ms: long
enough that back-to-back GEMMs, such as an LSTM's per-step products, still find the
helpers awake) when dlx is imported before NumPy. It leaves OpenBLAS's default (and
:func:`state` says why) when NumPy is already imported (OpenBLAS has read its environment:
export the variable before Python starts, or import dlx first), when the environment sets
``OPENBLAS_THREAD_TIMEOUT`` itself, and with ``DLX_BLAS_SPIN=system``. Only idle threads
wait differently: no result changes. Other BLAS libraries ignore the variable.
"""

from __future__ import annotations

import os
import sys

from dlx.errors import ConfigError

SPIN_ENV = "OPENBLAS_THREAD_TIMEOUT"
SPIN_LOG2_CYCLES = 20
OPT_OUT_ENV = "DLX_BLAS_SPIN"

_state: dict = {}


def _opted_out() -> bool:
    """Whether ``DLX_BLAS_SPIN=system`` leaves the spin to OpenBLAS; ConfigError if the
    variable holds anything but 'dlx' or 'system'."""
    choice = os.environ.get(OPT_OUT_ENV, "").strip().lower()
    if choice not in ("", "dlx", "system"):
        raise ConfigError(f"{OPT_OUT_ENV} must be 'dlx' or 'system', got {choice!r}")
    return choice == "system"


def shorten_spin() -> None:
    """Set the short spin if NumPy has not loaded its BLAS yet (see the module docstring).
    Runs once, when ``dlx.backends`` is imported; never raises (an unknown
    ``DLX_BLAS_SPIN`` is refused by :func:`state`, i.e. when a NumPy backend is created)."""
    if _state:
        return
    try:
        opted_out = _opted_out()
    except ConfigError:  # reported by state()
        _state.update(policy="system", reason=f"{OPT_OUT_ENV} was not understood")
        return
    if opted_out:
        _state.update(policy="system", reason=f"{OPT_OUT_ENV}=system")
    elif SPIN_ENV in os.environ:
        _state.update(policy="system", reason=f"set by {SPIN_ENV}={os.environ[SPIN_ENV]}")
    elif "numpy" in sys.modules:
        _state.update(policy="system", reason=f"numpy was imported before dlx (export "
                                              f"{SPIN_ENV}={SPIN_LOG2_CYCLES} to shorten it)")
    else:
        os.environ[SPIN_ENV] = str(SPIN_LOG2_CYCLES)
        _state.update(policy="dlx", log2_cycles=SPIN_LOG2_CYCLES)


def state() -> dict:
    """What :func:`shorten_spin` did: ``{"policy": "dlx", "log2_cycles": 20}`` or
    ``{"policy": "system", "reason": ...}``. An unknown ``DLX_BLAS_SPIN`` raises ConfigError
    on every call."""
    _opted_out()
    return dict(_state)
