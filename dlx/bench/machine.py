"""Facts about the machine a benchmark ran on, stored with every result file.

CPU model, SIMD flags, core counts, load average, thread-related environment variables,
the BLAS library and its threads (via threadpoolctl, through the NumPy backend's
``describe``), the GPU (through the CuPy backend's ``describe`` where one works) and
library versions.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime, timezone

from dlx import backends

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY",
              "OPENBLAS_THREAD_TIMEOUT", "GOMP_SPINCOUNT", "DLX_BACKEND",
              # these two override OpenBLAS's own choice of kernels and cache blocking
              "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
              # glibc's malloc parameters (see dlx.backends.host_allocator)
              "DLX_HOST_MALLOC", "GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_",
              "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX",
              # OpenBLAS's idle spin (see dlx.backends.blas_spin)
              "DLX_BLAS_SPIN",
              # the compiled CPU kernels (see dlx.backends.cpu_kernels)
              "DLX_CPU_KERNELS")
SIMD_PREFIXES = ("sse", "ssse", "avx", "fma", "amx", "f16c", "neon", "asimd", "sve")


def cpu_info() -> dict:
    """CPU model, logical/physical cores and SIMD flags (from /proc/cpuinfo on Linux)."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model") and model in ("", platform.machine(),
                                                               platform.processor()):
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = sorted(f for f in value.split() if f.startswith(SIMD_PREFIXES))
    except OSError:
        pass
    info = {"model": model, "logical_cores": os.cpu_count(), "simd": flags}
    try:
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["memory_gib"] = round(psutil.virtual_memory().total / 2 ** 30, 1)
    except ImportError:
        pass
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return info


def blas_threads() -> int | None:
    """Threads of NumPy's BLAS (threadpoolctl), or None when unknown."""
    blas = backends.get("numpy").describe().get("blas")
    return blas.get("num_threads") if isinstance(blas, dict) else None


def versions() -> dict:
    import dlx

    found = {"python": platform.python_version(), "dlx": dlx.__version__,
             "numpy": backends.get("numpy").xp.__version__}
    for name in ("torch", "cupy"):
        module = sys.modules.get(name)
        if module is not None:
            found[name] = module.__version__
    return found


def _without_path(state: dict | None) -> dict | None:
    """The compiled kernels' state without the library's cache path (it names the build,
    not the machine, and would make every --compare note a difference)."""
    return None if state is None else {k: v for k, v in state.items() if k != "library"}


def machine_info(gpu: dict | None = None) -> dict:
    """Everything above in one JSON-serialisable dict; ``gpu``: the CuPy backend's describe()."""
    numpy_info = backends.get("numpy").describe()
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_info(),
        "blas": numpy_info.get("blas"),
        "malloc": numpy_info.get("malloc"),
        "blas_spin": numpy_info.get("blas_spin"),
        "cpu_kernels": _without_path(numpy_info.get("cpu_kernels")),
        "gpu": gpu,
        "versions": versions(),
        "env": {k: os.environ[k] for k in THREAD_ENV if k in os.environ},
    }
