"""glibc's malloc thresholds for a training process: freed arrays stay in the heap.

A training step frees and re-allocates the same activation-sized arrays every step. glibc
serves a request above its mmap threshold with fresh pages from ``mmap`` and returns heap
memory to the kernel as soon as more than its trim threshold is free at the top of the heap.
Both start low (128 KiB) and glibc raises them only when it frees an mmap-ed block (the
mmap threshold to that block's size, at most ``DEFAULT_MMAP_THRESHOLD_MAX``, 32 MiB on
64-bit systems; the trim threshold to twice that). Until some large block has been freed,
every step page-faults its arrays in again: 15,000 faults (60 MB of pages zeroed by the
kernel) per ResNet b32 Adam step on one thread, which took 95-113 ms instead of 45-60
(``benchmarks/host_malloc.py``). A process that frees one large block early -- PyTorch in
the same process does -- runs the same step at the faster speed.

:func:`keep_freed_memory` sets both thresholds to the values glibc's own adaptation ends
at (``M_MMAP_THRESHOLD`` 32 MiB, ``M_TRIM_THRESHOLD`` 64 MiB) once per process, when the
NumPy backend is created. The cost: up to 64 MiB of freed memory per malloc arena (glibc
makes one per allocating thread, up to 8 per core) stays with the process instead of going
back to the kernel, and blocks up to 32 MiB come from the heap. It is skipped (and
:func:`state` says why) where the C library is not glibc, where the environment already
sets malloc parameters (``MALLOC_*_`` variables or ``glibc.malloc`` tunables: the user's
choice wins), and with ``DLX_HOST_MALLOC=system``.
"""

from __future__ import annotations

import ctypes
import os
import threading

#: glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit glibc
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # glibc's own rule when it raises the mmap threshold

#: environment variables through which glibc takes malloc parameters at start-up
MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
              "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX")
OPT_OUT_ENV = "DLX_HOST_MALLOC"

_lock = threading.Lock()
_state: dict = {}


def _glibc():
    """The process's C library when it is glibc with ``mallopt``, else None."""
    try:
        libc = ctypes.CDLL(None)
        version, mallopt = libc.gnu_get_libc_version, libc.mallopt
    except (OSError, AttributeError, TypeError):  # TypeError: CDLL(None) on Windows
        return None
    version.restype = ctypes.c_char_p
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return libc, version().decode()


def _left_to_environment() -> str | None:
    """Why the environment decides the malloc parameters, or None if it does not."""
    choice = os.environ.get(OPT_OUT_ENV, "").strip().lower()
    if choice == "system":
        return f"{OPT_OUT_ENV}=system"
    if choice not in ("", "dlx"):
        from dlx.errors import ConfigError

        raise ConfigError(f"{OPT_OUT_ENV} must be 'dlx' or 'system', got {choice!r}")
    named = [k for k in MALLOC_ENV if k in os.environ]
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        named.append("GLIBC_TUNABLES")
    return f"set by {', '.join(named)}" if named else None


def keep_freed_memory() -> dict:
    """Apply the thresholds once per process (see the module docstring); return :func:`state`.
    An unknown ``DLX_HOST_MALLOC`` raises ConfigError on every call."""
    reason = _left_to_environment()
    with _lock:
        if not _state:
            _state.update(_apply(reason))
        return dict(_state)


def _apply(reason: str | None) -> dict:
    """Set the thresholds unless ``reason`` (the environment's say) or the C library
    forbids it; return what was done."""
    found = _glibc()
    if found is None:
        return {"policy": "system", "reason": "the C library is not glibc"}
    libc, version = found
    if reason is not None:
        return {"policy": "system", "reason": reason, "glibc": version}
    if not (libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return {"policy": "system", "reason": "glibc refused the thresholds", "glibc": version}
    return {"policy": "dlx", "glibc": version, "mmap_threshold": MMAP_THRESHOLD,
            "trim_threshold": TRIM_THRESHOLD}


def state() -> dict:
    """What :func:`keep_freed_memory` did in this process ({} before it ran)."""
    with _lock:
        return dict(_state)
