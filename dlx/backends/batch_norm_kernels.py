"""The NumPy backend's float32 batch normalisation of images through the compiled kernels
(``kernels/batch_norm.cpp``, built by :mod:`dlx.backends.cpu_kernels`).

The formulas are those of :mod:`dlx.functional.normalization`; the kernels fuse them into 3
passes over each channel for the forward and 3 for the backward (NumPy's version makes
about 10 over the whole tensor and keeps xhat), and recompute xhat from x in backward.
Each call splits the channels over OpenMP threads, as many as the backend's workers when
the tensor is large enough to pay for the hand-off (``PARALLEL_MIN_BYTES``).
"""

from __future__ import annotations

import numpy as np

from dlx.backends import cpu_kernels

#: below this many bytes of input, batch norm runs on one thread
PARALLEL_MIN_BYTES = 1 << 20


class CompiledBatchNorm:
    """Forward and backward of :class:`~dlx.functional.normalization.BatchNorm` for a
    C-contiguous float32 NCHW input (viewed as (N, C, H*W))."""

    def __init__(self, backend):
        self.backend = backend
        self.lib = cpu_kernels.library()

    def _threads(self, x) -> int:
        if x.nbytes < PARALLEL_MIN_BYTES:
            return 1
        return cpu_kernels.threads(self.backend.parallel_workers())

    @staticmethod
    def _shape(x):
        return np.array([x.shape[0], x.shape[1], x.shape[2] * x.shape[3]], dtype=np.int64)

    def forward(self, x, gamma, beta, eps: float, mean=None, var=None):
        """(y, mean, var, inv_std); batch statistics when ``mean`` is None, else the given
        ``mean`` and ``var`` (C,)."""
        batch_stats = mean is None
        channels = x.shape[1]
        if batch_stats:
            mean, var = np.empty(channels, np.float32), np.empty(channels, np.float32)
        else:
            mean = np.ascontiguousarray(mean, dtype=np.float32)
            var = np.ascontiguousarray(var, dtype=np.float32)
        gamma = np.ascontiguousarray(gamma, dtype=np.float32)
        beta = np.ascontiguousarray(beta, dtype=np.float32)
        inv_std, y = np.empty(channels, np.float32), np.empty_like(x)
        cpu_kernels.check(self.lib.dlx_batch_norm_forward_f32(
            x.ctypes.data, gamma.ctypes.data, beta.ctypes.data, mean.ctypes.data,
            var.ctypes.data, inv_std.ctypes.data, y.ctypes.data, self._shape(x).ctypes.data,
            int(batch_stats), float(eps), self._threads(x)), "batch norm")
        return y, mean, var, inv_std

    def backward(self, x, gy, gamma, mean, inv_std, batch_stats: bool, need_dx: bool = True):
        """(dx or None, dgamma, dbeta) from dY, with the forward's x, mean and inv_std."""
        gy = np.ascontiguousarray(gy, dtype=np.float32)
        gamma = np.ascontiguousarray(gamma, dtype=np.float32)
        channels = x.shape[1]
        gx = np.empty_like(x) if need_dx else None
        dgamma, dbeta = np.empty(channels, np.float32), np.empty(channels, np.float32)
        cpu_kernels.check(self.lib.dlx_batch_norm_backward_f32(
            x.ctypes.data, gy.ctypes.data, gamma.ctypes.data, mean.ctypes.data,
            inv_std.ctypes.data, None if gx is None else gx.ctypes.data, dgamma.ctypes.data,
            dbeta.ctypes.data, self._shape(x).ctypes.data, int(batch_stats),
            self._threads(x)), "batch norm")
        return gx, dgamma, dbeta
