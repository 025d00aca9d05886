"""Primitives that launch the CUDA kernels of ``kernels/*.cu`` -- shared by every kernel backend.

Everything about a launch is decided here, once, for :class:`~dlx.backends.cupy_backend.CupyBackend`
(GPU) and :class:`~dlx.backends.emulated_backend.EmulatedBackend` (the same kernels on the CPU):

* launch configuration: ``block = block_size`` threads, ``grid = min(ceil(n / block), max_blocks)``
  blocks; the kernels use grid-stride loops, so a capped grid is still correct;
* inputs are made C-contiguous (and converted to the kernel's dtype) once, before the launch;
* dtype dispatch: float32 arrays call ``<kernel>_f32``, float64 arrays ``<kernel>_f64``;
* every scalar is passed as ``numpy.int64`` to match the kernels' ``long long`` parameters
  (a Python int would be fine for CuPy here, but never for a ``float``/``int`` parameter --
  cupy/cupy#8485 -- so the rule is: always an explicit NumPy dtype);
* outputs are allocated with ``self.xp``; nothing is copied to the host and nothing waits.

Subclasses supply :meth:`_function` (a compiled entry point callable as
``f(grid, block, args)``, the ``cupy.RawKernel`` convention). Shapes and semantics of the
primitives are those of :mod:`dlx.backends.base`.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import astuple, dataclass

import numpy as np

from dlx.backends import kernel_sources
from dlx.backends.base import Backend, as_pair, conv_output_size
from dlx.backends.rnn_cells_launch import RnnCellKernels
from dlx.errors import ConfigError, DtypeError, ShapeError


@dataclass(frozen=True)
class Geometry:
    """A window op over NCHW input; field order = the kernels' DLX_GEOMETRY_PARAMS."""

    n: int
    c: int
    h: int
    w: int
    fh: int
    fw: int
    sh: int
    sw: int
    ph: int
    pw: int
    oh: int
    ow: int

    @classmethod
    def of(cls, op: str, x_shape, kernel, stride, padding) -> Geometry:
        if len(x_shape) != 4:
            raise ShapeError(f"{op}: expected an NCHW shape (N, C, H, W), got {tuple(x_shape)}")
        (fh, fw), (sh, sw), (ph, pw) = (as_pair(kernel, "kernel"), as_pair(stride, "stride"),
                                        as_pair(padding, "padding"))
        if min(fh, fw, sh, sw) < 1 or min(ph, pw) < 0:
            raise ConfigError(f"{op}: kernel and stride must be >= 1 and padding >= 0, got "
                              f"kernel={(fh, fw)}, stride={(sh, sw)}, padding={(ph, pw)}")
        n, c, h, w = (int(s) for s in x_shape)
        oh, ow = conv_output_size(h, fh, sh, ph), conv_output_size(w, fw, sw, pw)
        if oh < 1 or ow < 1:
            raise ShapeError(f"{op}: window {(fh, fw)} with padding {(ph, pw)} does not fit "
                             f"the input's {h}x{w} pixels")
        return cls(n, c, h, w, fh, fw, sh, sw, ph, pw, oh, ow)

    def args(self) -> tuple[np.int64, ...]:
        return tuple(np.int64(v) for v in astuple(self))


class KernelBackend(RnnCellKernels, Backend):
    """A backend whose primitives launch the compiled kernels (see the module docstring)."""

    #: threads per block of the element-wise kernels
    block_size = 256
    #: cap on blocks per launch (grid-stride loops cover the rest)
    max_blocks = 65535
    #: threads of the single-block reduction (softmax_ce_reduce); at most 1024
    reduce_block = 256

    def __init__(self, seed: int = 0, *, block_size: int | None = None,
                 max_blocks: int | None = None):
        if block_size is not None:
            self.block_size = int(block_size)
        if max_blocks is not None:
            self.max_blocks = int(max_blocks)
        if not (1 <= self.block_size <= 1024 and self.max_blocks >= 1):
            raise ConfigError(f"block_size must be in [1, 1024] and max_blocks >= 1, got "
                              f"{self.block_size} and {self.max_blocks}")
        super().__init__(seed)

    @abstractmethod
    def _function(self, module: str, name: str):
        """Entry point ``name`` of ``kernels/<module>.cu``, callable as ``f(grid, block, args)``."""

    # -- launch plumbing -------------------------------------------------------------------
    def _launch(self, module: str, kernel: str, dtype, n_items: int, args,
                *, single_block: bool = False) -> None:
        """Run ``<kernel>_<f32|f64>`` over ``n_items`` (grid-stride) or as one block."""
        if single_block:
            grid, block = 1, self.reduce_block
        elif n_items == 0:
            return
        else:
            block = self.block_size
            grid = min(-(-n_items // block), self.max_blocks)
        name = f"{kernel}_{kernel_sources.SUFFIXES[np.dtype(dtype).name]}"
        self._function(module, name)((grid,), (block,), tuple(args))

    def _contiguous(self, a, dtype=None):
        """``a`` on this backend, C-contiguous, optionally as ``dtype`` (one copy at most)."""
        return self.xp.ascontiguousarray(self.xp.asarray(a, dtype=dtype))

    def _float_input(self, op: str, what: str, a, ndim: int):
        """``a`` as a C-contiguous float32/float64 array of ``ndim`` dimensions."""
        a = self._contiguous(a)
        if a.dtype.name not in kernel_sources.SUFFIXES:
            raise DtypeError(f"{op}: {what} must be float32 or float64, got {a.dtype}")
        if a.ndim != ndim:
            raise ShapeError(f"{op}: {what} must have {ndim} dimensions, got shape {a.shape}")
        return a

    def _matching(self, op: str, what: str, a, shape, dtype):
        """``a`` as a C-contiguous ``dtype`` array, checked to have ``shape``."""
        a = self._contiguous(a, dtype)
        if a.shape != tuple(shape):
            raise ShapeError(f"{op}: {what} must have shape {tuple(shape)}, got {a.shape}")
        return a

    def _labels(self, op: str, t, m: int):
        """Integer labels ``t`` of shape (m,) as C-contiguous int64 (the kernels' long long)."""
        t = self.xp.asarray(t)
        if t.dtype.kind not in "iu":
            raise DtypeError(f"{op}: labels t must be integers, got {t.dtype}")
        return self._matching(op, "labels t", t, (m,), np.int64)

    # -- im2col / col2im ---------------------------------------------------------------------
    def im2col(self, x, kernel, stride, padding):
        x = self._float_input("im2col", "x", x, 4)
        g = Geometry.of("im2col", x.shape, kernel, stride, padding)
        cols = self.xp.empty((g.c * g.fh * g.fw, g.n * g.oh * g.ow), dtype=x.dtype)
        self._launch("im2col", "im2col", x.dtype, cols.size, (x, cols, *g.args()))
        return cols

    def col2im(self, cols, x_shape, kernel, stride, padding):
        cols = self._float_input("col2im", "cols", cols, 2)
        g = Geometry.of("col2im", x_shape, kernel, stride, padding)
        expected = (g.c * g.fh * g.fw, g.n * g.oh * g.ow)
        if cols.shape != expected:
            raise ShapeError(f"col2im: cols must have shape {expected} for x_shape "
                             f"{tuple(x_shape)}, got {cols.shape}")
        dx = self.xp.empty((g.n, g.c, g.h, g.w), dtype=cols.dtype)
        self._launch("im2col", "col2im", cols.dtype, dx.size, (cols, dx, *g.args()))
        return dx

    # -- max pooling -----------------------------------------------------------------------
    def maxpool_fwd(self, x, kernel, stride, padding):
        x = self._float_input("maxpool_fwd", "x", x, 4)
        g = Geometry.of("maxpool_fwd", x.shape, kernel, stride, padding)
        y = self.xp.empty((g.n, g.c, g.oh, g.ow), dtype=x.dtype)
        argmax = self.xp.empty(y.shape, dtype=np.int32)
        self._launch("maxpool", "maxpool_fwd", x.dtype, y.size, (x, y, argmax, *g.args()))
        return y, argmax

    def maxpool_bwd(self, gy, argmax, x_shape, kernel, stride, padding):
        gy = self._float_input("maxpool_bwd", "gy", gy, 4)
        g = Geometry.of("maxpool_bwd", x_shape, kernel, stride, padding)
        out_shape = (g.n, g.c, g.oh, g.ow)
        if gy.shape != out_shape:
            raise ShapeError(f"maxpool_bwd: gy must have shape {out_shape}, got {gy.shape}")
        argmax = self._matching("maxpool_bwd", "argmax", argmax, out_shape, np.int32)
        dx = self.xp.empty((g.n, g.c, g.h, g.w), dtype=gy.dtype)
        self._launch("maxpool", "maxpool_bwd", gy.dtype, dx.size, (gy, argmax, dx, *g.args()))
        return dx

    # -- softmax cross-entropy -------------------------------------------------------------
    def softmax_ce_fwd(self, z, t, ignore_index=-100, sample_weight=None):
        op = "softmax_ce_fwd"
        z = self._float_input(op, "logits z", z, 2)
        m, k = z.shape
        if k == 0:
            raise ShapeError(f"{op}: logits z need at least one class, got shape {z.shape}")
        t = self._labels(op, t, m)
        has_weight = sample_weight is not None
        weight = (self._matching(op, "sample_weight", sample_weight, (m,), z.dtype)
                  if has_weight else self.xp.empty(0, dtype=z.dtype))
        probs = self.xp.empty_like(z)
        row_loss = self.xp.empty(m, dtype=z.dtype)
        scale = self.xp.empty(m, dtype=z.dtype)
        loss = self.xp.empty((), dtype=z.dtype)
        flags = (np.int64(ignore_index), np.int64(has_weight))
        self._launch("softmax_ce", "softmax_ce_rows", z.dtype, m,
                     (z, t, weight, probs, row_loss, scale, np.int64(m), np.int64(k), *flags))
        self._launch("softmax_ce", "softmax_ce_reduce", z.dtype, m,
                     (row_loss, scale, loss, np.int64(m), flags[1]), single_block=True)
        return loss, probs, scale

    def softmax_ce_bwd(self, probs, t, scale, gloss, ignore_index=-100):
        op = "softmax_ce_bwd"
        probs = self._float_input(op, "probs", probs, 2)
        m, k = probs.shape
        t = self._labels(op, t, m)
        scale = self._matching(op, "scale", scale, (m,), probs.dtype)
        gloss = self._contiguous(gloss, probs.dtype)
        if gloss.size != 1:
            raise ShapeError(f"{op}: gloss must be a scalar (0-d array), got shape {gloss.shape}")
        gloss = gloss.reshape(())
        dz = self.xp.empty_like(probs)
        self._launch("softmax_ce", "softmax_ce_bwd", probs.dtype, dz.size,
                     (probs, t, scale, gloss, dz, np.int64(m), np.int64(k),
                      np.int64(ignore_index)))
        return dz
