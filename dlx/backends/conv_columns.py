"""Column layouts of a convolution: how a batch chunk becomes the GEMM operand and back.

A convolution (see :mod:`dlx.functional.conv`) computes, per chunk of the batch,
``Zc = W_row @ cols`` with ``W_row`` (K, R), R = C*fh*fw, and ``cols`` (R, n*P): one column
per output position of each sample. Its backward needs ``G`` = dZ in the same (K, n*P) order,
``dW_row = G @ cols^T`` and ``dx`` from ``dcols = W_row^T @ G``. A layout says what the P
positions per sample are and moves arrays between NCHW and that order:

* :class:`Im2colColumns` -- P = OH*OW, the backend's ``im2col``/``col2im`` primitives (the
  CUDA kernels on a GPU); any geometry.
* :class:`PhaseRowColumns` -- the NumPy backend's layout. The zero-padded input is split into
  its sh*sw stride phases ``xq[a, b][h', w'] = xpad[sh*h' + a, sw*w' + b]`` (Hq x Wq each, one
  phase for stride 1), each flattened row-major. Kernel offset (i, j) then reads phase
  (i % sh, j % sw) at the flat offset ``(i // sh)*Wq + j // sw``, and its cols row is ONE
  contiguous slice of OH*Wq values per (c, n): P = OH*Wq positions per sample, of which the
  last Wq - OW of every output row wrap into the next input row and are dropped (their
  gradient is set to 0, so they add nothing to dW or dx). The copies of im2col and the adds
  of col2im then run over 1000-element runs instead of 32-element rows with a stride (3-4x
  faster at 32x32), the GEMM does (Wq - OW)/Wq more work (6% at 32x32 with padding 1), and
  the output and gradient transposes keep their OW-long rows contiguous.
"""

from __future__ import annotations

import math

import numpy as np

from dlx.backends import cpu_threads
from dlx.backends.base import conv_output_size
from dlx.backends.buffer_pool import BufferPool

#: the phase-row workspaces: phases, columns, gradient rows and GEMM results of a chunk
_workspace = BufferPool()


class Im2colColumns:
    """P = OH*OW columns per sample, built by ``backend.im2col`` (contract in base)."""

    def __init__(self, backend, x_shape, kernel, stride, padding, dtype=np.float32):
        self.backend, self.xp = backend, backend.xp
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.itemsize = np.dtype(dtype).itemsize
        self.sample_shape = tuple(x_shape[1:])
        _, h, w = self.sample_shape
        self.oh = conv_output_size(h, kernel[0], stride[0], padding[0])
        self.ow = conv_output_size(w, kernel[1], stride[1], padding[1])
        self.positions = self.oh * self.ow  # P

    def sample_bytes(self, itemsize: int) -> int:
        """Bytes of one sample's columns."""
        return math.prod(self.kernel) * self.sample_shape[0] * self.positions * itemsize

    def release(self) -> None:
        """Called after each pass over a convolution's chunks: free the workspaces no array
        uses any more (none here: the primitives allocate their own)."""

    def plan_chunks(self, n: int, backend):
        """[(n0, n1)] of the batch, and whether their columns fit the backend's chunk budget
        ``conv_chunk_bytes`` (only a single sample can exceed it). The chunks are as few as
        the budget allows, all of one size but the last (one workspace size per worker); with
        parallel workers and at least ``SPLIT_MIN_BYTES`` of columns, their count is aimed
        at a multiple of the workers, so that no worker waits for another's last chunk (3
        chunks on 2 threads take as long as 4)."""
        per_sample = self.sample_bytes(self.itemsize)
        budget = backend.conv_chunk_bytes
        count = -(-n // max(1, min(n, budget // max(per_sample, 1))))
        workers = backend.parallel_workers()
        if workers > 1 and n * per_sample >= cpu_threads.SPLIT_MIN_BYTES:
            count = min(n, -(-count // workers) * workers)
        size = -(-n // count)
        return [(n0, min(n0 + size, n)) for n0 in range(0, n, size)], per_sample <= budget

    def forward(self, x, w, bias, out, keep: bool = False):
        """out (n, K, OH, OW) = the chunk's convolution: Zc = W_row @ cols, in NCHW order,
        plus ``bias``; returns the columns when ``keep`` (for backward), else None."""
        cols = self.columns(x)
        self.output(self.matmul(w.reshape(w.shape[0], -1), cols), bias, out)
        return cols if keep else None

    def matmul(self, a, b):
        """a @ b (the chunk's GEMMs; a layout may supply the result's buffer)."""
        return a @ b

    def columns(self, x):
        """(n, C, H, W) -> cols (R, n*P)."""
        return self.backend.im2col(x, self.kernel, self.stride, self.padding)

    def output(self, zc, bias, out) -> None:
        """out (n, K, OH, OW) = Zc (K, n*P) in NCHW order, plus ``bias`` (K,) if given."""
        k, n = zc.shape[0], out.shape[0]
        z = zc.reshape(k, n, self.oh, self.ow).transpose(1, 0, 2, 3)
        if bias is None:
            out[...] = z
        else:
            self.xp.add(z, bias.reshape(1, k, 1, 1), out=out)

    def output_grad(self, gz):
        """dZ (n, K, OH, OW) -> G (K, n*P), C-contiguous."""
        return self.xp.ascontiguousarray(gz.transpose(1, 0, 2, 3)).reshape(gz.shape[1], -1)

    def input_grad(self, w, g, out) -> None:
        """out (n, C, H, W) = dx of the chunk: the adjoint of :meth:`columns` applied to
        dcols = W_row^T @ G, with w (K, C, fh, fw) and G (K, n*P)."""
        out[...] = self.backend.col2im(w.reshape(w.shape[0], -1).T @ g, out.shape, self.kernel,
                                       self.stride, self.padding)

    def gradients(self, w, gz, dx_out=None, x=None, cols=None):
        """The chunk's dW_row^T (C*fh*fw, K), and its dx written into ``dx_out`` when given,
        from dZ (n, K, OH, OW) and the forward's columns (``cols``) or the input ``x``."""
        if cols is None:
            cols = self.columns(x)
        g = self.output_grad(gz)
        if dx_out is not None:
            self.input_grad(w, g, dx_out)
        return cols @ g.T


def _phase_range(phase, pad, stride, n_phase, n_in):
    """Along one axis of stride phase ``phase``: the phase indices [q0, q1) that hold input
    pixels (``stride*q + phase - pad`` in [0, n_in)) and the first such pixel."""
    q0 = max(0, -(-(pad - phase) // stride))
    q1 = min(n_phase, (n_in - 1 + pad - phase) // stride + 1)
    return q0, max(q0, q1), q0 * stride + phase - pad


#: fewer input channels make the transposed convolution's GEMM too thin (3 channels: 2.5x
#: slower than the phase col2im)
ADJOINT_MIN_CHANNELS = 16


class PhaseRowColumns(Im2colColumns):
    """P = OH*Wq columns per sample, copied as contiguous runs of the stride phases of the
    padded input (see the module docstring); NumPy arrays only."""

    def __init__(self, backend, x_shape, kernel, stride, padding, dtype=np.float32):
        super().__init__(backend, x_shape, kernel, stride, padding, dtype)
        (fh, fw), (sh, sw), (ph, pw) = kernel, stride, padding
        _, h, w = self.sample_shape
        self.hq, self.wq = -(-(h + 2 * ph) // sh), -(-(w + 2 * pw) // sw)
        self.positions = self.oh * self.wq
        # flat start of every kernel offset's run, and the phase it reads
        self.taps = [((i % sh) * sw + j % sw, (i // sh) * self.wq + j // sw)
                     for i in range(fh) for j in range(fw)]
        last_start = max(start for _, start in self.taps)
        self.flat = max(self.hq * self.wq, last_start + self.positions)  # per phase
        # the taps (a + sh*i', b + sw*j') of each stride phase (a, b): (phase, a, b, i', j')
        self.tap_groups = [(a * sw + b, a, b, len(range(a, fh, sh)), len(range(b, fw, sw)))
                           for a in range(sh) for b in range(sw)]
        self.spans = [(a * sw + b, _phase_range(a, ph, sh, self.hq, h),
                       _phase_range(b, pw, sw, self.wq, w)) for a in range(sh) for b in range(sw)]

    def _phase_views(self, buf):
        """(phase, (n, C, q-rows, q-cols) view of buf, matching (n, C, rows, cols) of x)."""
        n, c = buf.shape[:2]
        (sh, sw) = self.stride
        grid = buf[:, :, :, :self.hq * self.wq].reshape(n, c, sh * sw, self.hq, self.wq)
        for phase, (r0, r1, x_r), (q0, q1, x_q) in self.spans:
            if r1 > r0 and q1 > q0:
                yield (grid[:, :, phase, r0:r1, q0:q1],
                       (slice(x_r, x_r + sh * (r1 - r0 - 1) + 1, sh),
                        slice(x_q, x_q + sw * (q1 - q0 - 1) + 1, sw)))

    def matmul(self, a, b):
        return np.matmul(a, b, out=_workspace.empty((a.shape[0], b.shape[1]), a.dtype))

    def release(self) -> None:
        """The chunks of one pass recycle one another's workspaces; kept from layer to layer,
        they would add every layer's sizes to the step's peak memory (LeNet-5 b256: +15 MiB)."""
        _workspace.release_free()

    def _buffer(self, n, dtype):
        c = self.sample_shape[0]
        buf = _workspace.empty((n, c, self.stride[0] * self.stride[1], self.flat), dtype)
        buf.fill(0)
        return buf

    def columns(self, x):
        n, c = x.shape[:2]
        phases = self._buffer(n, x.dtype)
        for view, (rows, cols) in self._phase_views(phases):
            view[...] = x[:, :, rows, cols]
        out = _workspace.empty((c, *self.kernel, n, self.positions), x.dtype)
        sh, sw = self.stride
        for phase, a, b, fi, fj in self.tap_groups:
            np.copyto(out[:, a::sh, b::sw], self._tap_runs(phases, phase, fi, fj))
        return out.reshape(c * len(self.taps), n * self.positions)

    def _tap_runs(self, phases, phase, fi, fj):
        """Read-only (C, fi, fj, n, P) view of one phase's taps: [c, i', j', n, p] =
        phases[n, c, phase, i'*Wq + j' + p]. One copy per stride phase instead of one per
        tap: each NumPy call hands the GIL to the other chunk threads and back, and with two
        threads nine short copies took 2.7x as long as on one (one call: no slower)."""
        n, c = phases.shape[:2]
        runs = phases[:, :, phase]
        step = runs.strides[2]
        return np.lib.stride_tricks.as_strided(
            runs, shape=(c, fi, fj, n, self.positions),
            strides=(runs.strides[1], self.wq * step, step, runs.strides[0], step),
            writeable=False)

    def output(self, zc, bias, out) -> None:
        k, n = zc.shape[0], out.shape[0]
        z = zc.reshape(k, n, self.oh, self.wq)[:, :, :, :self.ow].transpose(1, 0, 2, 3)
        if bias is None:
            out[...] = z
        else:
            np.add(z, bias.reshape(1, k, 1, 1), out=out)

    def output_grad(self, gz):
        n, k = gz.shape[:2]
        g = _workspace.empty((k, n, self.oh, self.wq), gz.dtype)
        g[:, :, :, self.ow:] = 0
        g[:, :, :, :self.ow] = gz.transpose(1, 0, 2, 3)
        return g.reshape(k, n * self.positions)

    def gradients(self, w, gz, dx_out=None, x=None, cols=None):
        """Stride 1 (padding below the kernel size), at least ``ADJOINT_MIN_CHANNELS`` input
        channels, dx wanted and the columns not kept: through the transposed convolution.
        dx is the convolution of dZ, padded by f - 1 - p, with the flipped, transposed
        kernel -- one GEMM over the columns ``gcols`` of dZ instead of a K-term GEMM and
        fh*fw adds (1.6x faster at 16 channels, 32x32) -- and the same columns give dW
        without rebuilding the input's: dW[k, c, i, j] = sum x[n, c, h, w] *
        gcols[(k, fh-1-i, fw-1-j), (n, h, w)], a GEMM with x laid out like dx.
        Otherwise the columns' path, dx added back through the phases."""
        (fh, fw), (ph, pw) = self.kernel, self.padding
        if (dx_out is None or cols is not None or self.stride != (1, 1) or ph >= fh
                or pw >= fw or w.shape[1] < ADJOINT_MIN_CHANNELS):
            return super().gradients(w, gz, dx_out, x, cols)
        k, c = w.shape[:2]
        adjoint = PhaseRowColumns(self.backend, gz.shape, self.kernel, (1, 1),
                                  (fh - 1 - ph, fw - 1 - pw), gz.dtype)
        gcols = adjoint.columns(gz)  # (K*fh*fw, n*P'), taps of the flipped kernel
        w_adj = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(c, -1)
        adjoint.output(self.matmul(w_adj, gcols), None, dx_out)
        dw_flipped = gcols @ adjoint.output_grad(x).T  # (K*fh*fw, C)
        return dw_flipped.reshape(k, fh, fw, c)[:, ::-1, ::-1].transpose(3, 1, 2, 0) \
            .reshape(c * fh * fw, k)

    def input_grad(self, w, g, out) -> None:
        """Each offset's run of W_row^T @ G added into the phases, then read back as dx."""
        n, c = out.shape[:2]
        d = self.matmul(w.reshape(w.shape[0], -1).T, g).reshape(c, len(self.taps), n,
                                                                self.positions)
        phases = self._buffer(n, d.dtype)
        for t, (phase, start) in enumerate(self.taps):
            run = phases[:, :, phase, start:start + self.positions]
            np.add(run, d[:, t].transpose(1, 0, 2), out=run)
        for view, (rows, cols) in self._phase_views(phases):
            out[:, :, rows, cols] = view
