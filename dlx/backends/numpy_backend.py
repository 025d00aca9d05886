"""The NumPy (CPU) backend."""

from __future__ import annotations

import numpy as np

from dlx.backends import numpy_primitives as prim
from dlx.backends.cpu_threads import map_parallel
from dlx.backends.base import Backend


class NumpyBackend(Backend):
    """Arrays are ``numpy.ndarray``; the primitives are the vectorised NumPy ones."""

    name = "numpy"
    xp = np
    #: 2 MiB column chunks: a LeNet-5 step at batch 256 peaks at PyTorch's host memory
    #: (37 MiB of columns otherwise), and single-threaded BLAS runs the chunked 64x16x32x32
    #: conv faster than one big GEMM (see docs/benchmarks.md for the figures)
    conv_chunk_bytes = 2 << 20

    def get_rng_state(self) -> dict:
        return {"family": "numpy", "bit_generator": self.rng.bit_generator.state}

    def set_rng_state(self, state: dict) -> None:
        from dlx.errors import ConfigError

        if state.get("family") != "numpy":
            raise ConfigError(f"{self.name} backend cannot restore an RNG state of family "
                              f"{state.get('family')!r}; expected 'numpy'")
        self.rng.bit_generator.state = state["bit_generator"]

    def asarray(self, a, dtype=None):
        if hasattr(a, "get") and not isinstance(a, np.ndarray):  # a cupy array
            a = a.get()
        return np.asarray(a, dtype=dtype)

    def to_host(self, a):
        if hasattr(a, "get") and not isinstance(a, np.ndarray):
            return a.get()
        return np.asarray(a)

    def map_chunks(self, fn, chunks) -> list:
        """Chunks run on parallel threads with single-threaded BLAS (see cpu_threads)."""
        return map_parallel(fn, chunks)

    def describe(self) -> dict:
        info = {"backend": self.name, "numpy": np.__version__}
        try:
            from threadpoolctl import threadpool_info

            blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
            if blas:
                info["blas"] = {k: blas[0].get(k) for k in
                                ("internal_api", "version", "architecture", "num_threads")}
        except ImportError:
            info["blas"] = "unknown (install threadpoolctl to report it)"
        return info

    im2col = staticmethod(prim.im2col)
    col2im = staticmethod(prim.col2im)
    maxpool_fwd = staticmethod(prim.maxpool_fwd)
    maxpool_bwd = staticmethod(prim.maxpool_bwd)
    softmax_ce_fwd = staticmethod(prim.softmax_ce_fwd)
    softmax_ce_bwd = staticmethod(prim.softmax_ce_bwd)
