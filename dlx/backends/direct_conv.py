"""The NumPy backend's float32 convolution through the compiled kernels
(``kernels/direct_conv.cpp``, built by :mod:`dlx.backends.cpu_kernels`).

A direct convolution over the stride phases of each sample (the layout of
:class:`~dlx.backends.conv_columns.PhaseRowColumns`, without building the column matrix),
register-blocked for the CPU's vector width; backward reads x again instead of keeping
columns. :class:`DirectConv` offers the layout interface :class:`~dlx.functional.conv.Conv2d`
drives (``plan_chunks``, ``forward``, ``gradients``, ``release``).
"""

from __future__ import annotations

import numpy as np

from dlx.backends import cpu_kernels, cpu_threads
from dlx.backends.base import conv_output_size


class DirectConv:
    """A float32 convolution through the compiled kernels (the layout interface of
    :class:`~dlx.backends.conv_columns.Im2colColumns`): no columns; backward reads x again.

    Each pass is one call; the kernels split its samples over OpenMP threads, as many as
    the backend's workers when the layer is big enough to pay for the hand-off
    (``cpu_threads.SPLIT_MIN_BYTES``), else one."""

    def __init__(self, x_shape, kernel, stride, padding):
        self.lib = cpu_kernels.library()
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.sample_shape = tuple(x_shape[1:])
        _, h, w = self.sample_shape
        self.oh = conv_output_size(h, kernel[0], stride[0], padding[0])
        self.ow = conv_output_size(w, kernel[1], stride[1], padding[1])

    def sample_bytes(self, itemsize: int) -> int:
        """Bytes of one sample's im2col columns: the measure of its work."""
        c, (fh, fw) = self.sample_shape[0], self.kernel
        return c * fh * fw * self.oh * self.ow * itemsize

    def plan_chunks(self, n: int, backend):
        """One chunk: the kernels split the batch over their own threads (OpenMP; the
        thread count is chosen here, per call). False: no BLAS runs inside."""
        self.threads = 1
        if n * self.sample_bytes(4) >= cpu_threads.SPLIT_MIN_BYTES:
            self.threads = cpu_kernels.threads(backend.parallel_workers())
        return [(0, n)], False

    def _geometry(self, n: int, k: int):
        return np.array([n, *self.sample_shape, k, *self.kernel, *self.stride, *self.padding],
                        dtype=np.int64)

    def forward(self, x, w, bias, out, keep: bool = False):
        """out (n, K, OH, OW) = conv(x, w) + bias for C-contiguous float32 arrays; nothing is
        kept for backward but x itself (returns None)."""
        geometry = self._geometry(x.shape[0], w.shape[0])
        if bias is not None:
            bias = np.ascontiguousarray(bias, dtype=np.float32)
        _check(self.lib.dlx_conv2d_forward_f32(
            x.ctypes.data, w.ctypes.data, None if bias is None else bias.ctypes.data,
            out.ctypes.data, geometry.ctypes.data, self.threads))
        return None

    def gradients(self, w, gz, dx_out=None, x=None, cols=None):
        """The chunk's dW_row^T (C*fh*fw, K) -- a transposed view of dW (K, C, fh, fw) --
        and its dx written into ``dx_out`` when given, from dZ (n, K, OH, OW) and x."""
        gw = np.empty(w.shape, dtype=np.float32)
        geometry = self._geometry(x.shape[0], w.shape[0])
        _check(self.lib.dlx_conv2d_backward_f32(
            x.ctypes.data, w.ctypes.data, gz.ctypes.data,
            None if dx_out is None else dx_out.ctypes.data, gw.ctypes.data,
            geometry.ctypes.data, self.threads))
        return gw.reshape(w.shape[0], -1).T

    def release(self) -> None:
        """Nothing to release: the kernels free their workspaces before returning."""


def _check(status: int) -> None:
    cpu_kernels.check(status, "convolution")
