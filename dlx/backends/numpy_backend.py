"""The NumPy (CPU) backend."""

from __future__ import annotations

import numpy as np

from dlx.backends import blas_spin, cpu_kernels
from dlx.backends.batch_norm_kernels import CompiledBatchNorm
from dlx.backends import numpy_primitives as prim
from dlx.backends import rnn_cells_numpy as rnn
from dlx.backends.cpu_threads import blas_threads, map_parallel
from dlx.backends.base import Backend
from dlx.backends.conv_columns import PhaseRowColumns
from dlx.backends.direct_conv import DirectConv
from dlx.backends.host_allocator import keep_freed_memory
from dlx.backends.inputs import host_array, is_cupy_array


class NumpyBackend(Backend):
    """Arrays are ``numpy.ndarray``; the primitives are the vectorised NumPy ones."""

    name = "numpy"
    xp = np
    #: 2 MiB column chunks: a LeNet-5 step at batch 256 peaks at PyTorch's host memory
    #: (37 MiB of columns otherwise), and single-threaded BLAS runs the chunked 64x16x32x32
    #: conv faster than one big GEMM (see docs/benchmarks.md for the figures)
    conv_chunk_bytes = 2 << 20

    def __init__(self, seed: int = 0):
        super().__init__(seed)
        keep_freed_memory()  # glibc keeps freed arrays for the next step (host_allocator)
        blas_spin.state()  # refuses an unknown DLX_BLAS_SPIN
        cpu_kernels.policy()  # refuses an unknown DLX_CPU_KERNELS

    def get_rng_state(self) -> dict:
        return {"family": "numpy", "bit_generator": self.rng.bit_generator.state}

    def set_rng_state(self, state: dict) -> None:
        from dlx.errors import ConfigError

        if state.get("family") != "numpy":
            raise ConfigError(f"{self.name} backend cannot restore an RNG state of family "
                              f"{state.get('family')!r}; expected 'numpy'")
        self.rng.bit_generator.state = state["bit_generator"]

    def asarray(self, a, dtype=None):
        if type(a) is np.ndarray and a.dtype.kind in "biuf":  # the common case, fast
            return a if dtype is None else a.astype(dtype, copy=False)
        if is_cupy_array(a):
            a = a.get()
        return host_array(a, dtype=dtype)

    def owns(self, a) -> bool:
        """NumPy arrays, except masked arrays (converted, i.e. refused, by asarray)."""
        return isinstance(a, np.ndarray) and not isinstance(a, np.ma.MaskedArray)

    def to_host(self, a):
        if is_cupy_array(a):
            return a.get()
        return host_array(a)

    def scatter_add(self, target, index, values) -> None:
        """Rows ``target[index] += values`` for a 1-D integer index: a stable sort and one
        segment sum (``add.reduceat``) per distinct row, several times faster than
        ``np.add.at`` on the Zipf-distributed rows of word vectors; other cases use add.at."""
        if not (isinstance(index, np.ndarray) and index.ndim == 1 and index.dtype.kind in "iu"
                and values.ndim == target.ndim and index.size > 1):
            np.add.at(target, index, values)
            return
        order = np.argsort(index, kind="stable")
        rows = index[order]
        starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
        target[rows[starts]] += np.add.reduceat(values[order], starts, axis=0)

    def parallel_workers(self) -> int:
        """The BLAS thread count in force (see cpu_threads)."""
        return blas_threads()

    def map_chunks(self, fn, chunks, cache_sized: bool = False) -> list:
        """Chunks run on parallel threads with single-threaded BLAS (see cpu_threads)."""
        return map_parallel(fn, chunks, cache_sized)

    def describe(self) -> dict:
        info = {"backend": self.name, "numpy": np.__version__, "malloc": keep_freed_memory(),
                "blas_spin": blas_spin.state(), "cpu_kernels": self.kernels_state()}
        try:
            from threadpoolctl import threadpool_info

            blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
            if blas:
                info["blas"] = {k: blas[0].get(k) for k in
                                ("internal_api", "version", "architecture", "num_threads")}
        except ImportError:
            info["blas"] = "unknown (install threadpoolctl to report it)"
        return info

    def kernels_state(self) -> dict:
        """What float32 convolutions and batch norms run on (:mod:`dlx.backends.cpu_kernels`)."""
        return cpu_kernels.state()

    def batch_norm_kernels(self, x):
        """The compiled kernels for C-contiguous float32 images where they build
        (``DLX_CPU_KERNELS``); dense input and float64 use the NumPy code."""
        if x.ndim == 4 and x.flags.c_contiguous and cpu_kernels.engine(x.dtype) == "native":
            return CompiledBatchNorm(self)
        return None

    def conv_columns(self, x_shape, kernel, stride, padding, dtype=None):
        """float32: the compiled direct convolution where it builds (``DLX_CPU_KERNELS``, see
        :mod:`dlx.backends.direct_conv`). Otherwise columns: contiguous runs of the stride
        phases when every phase is read (the kernel is at least the stride), else im2col
        (see :mod:`dlx.backends.conv_columns`)."""
        dtype = self.default_dtype if dtype is None else np.dtype(dtype)
        if cpu_kernels.engine(dtype) == "native":
            return DirectConv(x_shape, kernel, stride, padding)
        if kernel[0] >= stride[0] and kernel[1] >= stride[1]:
            return PhaseRowColumns(self, x_shape, kernel, stride, padding, dtype)
        return super().conv_columns(x_shape, kernel, stride, padding, dtype)

    im2col = staticmethod(prim.im2col)
    col2im = staticmethod(prim.col2im)
    def maxpool_fwd(self, x, kernel, stride, padding):
        """Batch halves on parallel threads when the input is large (see cpu_threads)."""
        parts = map_parallel(lambda s: prim.maxpool_fwd(x[s], kernel, stride, padding),
                             _batch_slices(x))
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([y for y, _ in parts]), np.concatenate([a for _, a in parts])

    def maxpool_bwd(self, gy, argmax, x_shape, kernel, stride, padding):
        slices = _batch_slices(gy, x_shape)
        dx = np.empty(x_shape, dtype=gy.dtype) if len(slices) > 1 else None

        def part(s):
            shape = (s.stop - s.start,) + tuple(x_shape[1:])
            result = prim.maxpool_bwd(gy[s], argmax[s], shape, kernel, stride, padding)
            if dx is None:
                return result
            dx[s] = result
            return None

        results = map_parallel(part, slices)
        return results[0] if dx is None else dx
    softmax_ce_fwd = staticmethod(prim.softmax_ce_fwd)
    softmax_ce_bwd = staticmethod(prim.softmax_ce_bwd)
    # recurrent-cell primitives (contract in dlx.backends.rnn_cells_numpy)
    rnn_fwd = staticmethod(rnn.rnn_fwd)
    rnn_bwd = staticmethod(rnn.rnn_bwd)
    lstm_fwd = staticmethod(rnn.lstm_fwd)
    lstm_bwd = staticmethod(rnn.lstm_bwd)
    gru_reset_fwd = staticmethod(rnn.gru_reset_fwd)
    gru_state_fwd = staticmethod(rnn.gru_state_fwd)
    gru_state_bwd = staticmethod(rnn.gru_state_bwd)
    gru_reset_bwd = staticmethod(rnn.gru_reset_bwd)
    gru_torch_fwd = staticmethod(rnn.gru_torch_fwd)
    gru_torch_bwd = staticmethod(rnn.gru_torch_bwd)


#: below this many bytes of pooling input, threads cost more than they save
PARALLEL_MIN_BYTES = 1 << 20


def _batch_slices(a, x_shape=None) -> list:
    """The batch split in one slice per thread when the op's input is large, else one."""
    n = a.shape[0]
    nbytes = a.dtype.itemsize * (int(np.prod(x_shape)) if x_shape is not None else a.size)
    parts = min(blas_threads(), n) if nbytes >= PARALLEL_MIN_BYTES else 1
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
