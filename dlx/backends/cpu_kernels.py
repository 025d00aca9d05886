"""The NumPy backend's compiled CPU kernels: ``kernels/*.cpp`` built for this CPU.

Two hot paths of a float32 training step on the NumPy backend run compiled C++ when the
machine has a C++ compiler: the convolution (``kernels/direct_conv.cpp``, used through
:mod:`dlx.backends.direct_conv`) and batch normalisation of images
(``kernels/batch_norm.cpp``, through :mod:`dlx.backends.batch_norm_kernels`). Both sources
are compiled into one library, once per machine (``-O3 -march=native -fopenmp``, a few
seconds), and cached (:mod:`dlx.backends.host_compiler`). ctypes releases the GIL for each
call; inside, a kernel splits its work over OpenMP threads, as many as dlx's worker count
(:func:`dlx.backends.cpu_threads.blas_threads`, i.e. the BLAS thread count in force) when
the work is large enough. float64 (gradient checks, references) and machines without a
compiler use the NumPy code.

``DLX_CPU_KERNELS`` chooses: ``auto`` (the default: compiled when it builds, else NumPy,
with the reason in ``backend.describe()["cpu_kernels"]``), ``native`` (compiled, or a
:class:`~dlx.errors.BackendUnavailableError` that says why not) or ``numpy`` (never).

Results agree with the NumPy code to float32 rounding, not bit for bit (other summation
orders; FMA contraction), and depend on the CPU's vector width (AVX-512: 16 lanes, AVX: 8).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import threading
from pathlib import Path

import numpy as np

from dlx.backends import kernel_sources
from dlx.backends.host_compiler import (BuildError, cache_root, compile_into, compiler_version,
                                        find_compiler)

ENV = "DLX_CPU_KERNELS"
POLICIES = ("auto", "native", "numpy")
SOURCES = ("direct_conv.cpp", "batch_norm.cpp")
HEADER = "cpu_common.hpp"
FLAGS = ("-std=c++17", "-O3", "-ffp-contract=fast", "-fopenmp", "-fPIC", "-shared", "-Wall",
         "-Wextra")
SANITIZE_FLAGS = ("-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                  "-fno-omit-frame-pointer", "-g")
#: libgomp's idle workers spin this many pause instructions before they sleep (its default,
#: 300,000, kept a core busy for 4.6 ms after every parallel region on a 2-vCPU Xeon; with
#: 30,000, 1.2 ms, and a ResNet b32 step as fast; with 0 the step took 20% longer)
OMP_SPIN_COUNT = 30000
_lock = threading.Lock()
_loaded: dict[bool, object] = {}  # sanitize -> ctypes library or the BuildError/OSError
_omp_spin: dict = {}
_threads_state = {"used": False, "forked_after_use": False}


def threads(requested: int) -> int:
    """The OpenMP threads a kernel call may use: ``requested``, except 1 in a process forked
    after this one's kernels ran threads (libgomp's threads do not survive ``fork()``, and a
    parallel region in the child would hang; one thread never enters one)."""
    if requested > 1 and not _threads_state["forked_after_use"]:
        _threads_state["used"] = True
        return requested
    return 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _threads_state.update(
        forked_after_use=_threads_state["used"]))


def policy() -> str:
    """``DLX_CPU_KERNELS`` (``auto`` when unset); an unknown value is a ConfigError."""
    from dlx.errors import ConfigError

    value = os.environ.get(ENV, "").strip().lower() or "auto"
    if value not in POLICIES:
        raise ConfigError(f"{ENV} must be 'auto', 'native' or 'numpy', got {value!r}")
    return value


def build(compiler: str | None = None, *, sanitize: bool = False, march: str = "native",
          directory: Path | None = None) -> Path:
    """Compile ``kernels/*.cpp`` into one library for ``-march=<march>`` (cached); its path.

    ``directory``: another kernel directory (e.g. a modified copy, for tests). The cache key
    covers the sources, the flags, the compiler's version and what the ``-march`` option
    means on this machine (so a cache shared between machines never hands one CPU's
    ``native`` build to another)."""
    compiler = compiler or find_compiler()
    if compiler is None:
        raise BuildError("no C++ compiler was found (set $CXX or install g++ / clang++)")
    directory = Path(directory) if directory is not None else kernel_sources.kernel_dir()
    sources = [directory / name for name in SOURCES]
    flags = FLAGS + (f"-march={march}",) + (SANITIZE_FLAGS if sanitize else ())
    native = subprocess.run([compiler, f"-march={march}", "-###", "-E", "-x", "c++", os.devnull],
                            capture_output=True, text=True).stderr
    digest = hashlib.sha256()
    for part in ([p.read_text() for p in sources] + [(directory / HEADER).read_text(),
                 " ".join(flags), compiler_version(compiler), native]):
        digest.update(part.encode() + b"\0")
    target = cache_root() / "cpu_kernels" / f"cpu_kernels-{digest.hexdigest()[:20]}"
    return compile_into(target, "cpu_kernels.so",
                        lambda staging: [compiler, *flags, "-o", str(staging / "cpu_kernels.so"),
                                         *map(str, sources)],
                        f"the compiled CPU kernels ({', '.join(SOURCES)})")


def _shorten_omp_spin() -> None:
    """Set ``GOMP_SPINCOUNT`` before libgomp loads (it reads the variable then), unless the
    environment says how OpenMP threads should wait or libgomp is loaded already."""
    if _omp_spin:
        return
    for name in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"):
        if name in os.environ:
            _omp_spin.update(policy="system", reason=f"set by {name}={os.environ[name]}")
            return
    try:
        with open("/proc/self/maps") as maps:
            loaded = "/libgomp.so" in maps.read()
    except OSError:
        loaded = False
    if loaded:
        _omp_spin.update(policy="system", reason="libgomp was loaded before dlx's kernels")
    else:
        os.environ["GOMP_SPINCOUNT"] = str(OMP_SPIN_COUNT)
        _omp_spin.update(policy="dlx", spin_count=OMP_SPIN_COUNT)


def library(sanitize: bool = False):
    """The loaded library (built on first use, once per process); raises the build's error."""
    with _lock:
        if sanitize not in _loaded:
            _shorten_omp_spin()
            try:
                _loaded[sanitize] = load(build(sanitize=sanitize))
            except (BuildError, OSError) as exc:
                _loaded[sanitize] = exc
        loaded = _loaded[sanitize]
    if isinstance(loaded, Exception):
        raise loaded
    return loaded


def load(path: Path):
    """A built library, loaded, with its entry points' argument types declared."""
    lib = ctypes.CDLL(str(path))
    p, c_int = ctypes.c_void_p, ctypes.c_int
    for name, args in (("dlx_conv2d_forward_f32", [p] * 5 + [c_int]),
                       ("dlx_conv2d_backward_f32", [p] * 6 + [c_int]),
                       ("dlx_batch_norm_forward_f32", [p] * 8 + [c_int, ctypes.c_float, c_int]),
                       ("dlx_batch_norm_backward_f32", [p] * 9 + [c_int, c_int]),
                       ("dlx_cpu_vector_width", []), ("dlx_cpu_openmp", [])):
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = c_int
    return lib


def engine(dtype) -> str:
    """``"native"`` when float work of ``dtype`` runs compiled, else ``"numpy"``."""
    chosen = policy()
    if chosen == "numpy" or np.dtype(dtype) != np.float32:
        return "numpy"
    try:
        library()
    except (BuildError, OSError) as exc:
        if chosen == "native":
            from dlx.errors import BackendUnavailableError

            raise BackendUnavailableError(f"{ENV}=native, but the compiled CPU kernels are "
                                          f"unavailable: {exc}") from exc
        return "numpy"
    return "native"


def state() -> dict:
    """What float32 convolutions and batch norms run on, and why (``describe()``, bench)."""
    chosen = policy()
    if chosen == "numpy":
        return {"policy": chosen, "engine": "numpy", "reason": f"{ENV}=numpy"}
    try:
        lib = library()
    except (BuildError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        return {"policy": chosen, "engine": "numpy", "reason": first_line}
    return {"policy": chosen, "engine": "native", "vector_width": lib.dlx_cpu_vector_width(),
            "openmp": bool(lib.dlx_cpu_openmp()), "omp_spin": dict(_omp_spin),
            "library": lib._name}


def check(status: int, what: str) -> None:
    """Raise for an entry point's non-zero status: 2 is out of memory, others are dlx bugs
    (the Python side validates every shape before calling)."""
    if status == 2:
        raise MemoryError(f"the compiled {what} could not allocate its workspace")
    if status != 0:
        raise RuntimeError(f"the compiled {what} refused its arguments (status {status}); "
                           "this is a bug in dlx")
