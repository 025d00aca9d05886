"""Primitives that launch the CUDA kernels of ``kernels/*.cu`` -- shared by every kernel backend.

Everything about a launch is decided here, once, for :class:`~dlx.backends.cupy_backend.CupyBackend`
(GPU) and :class:`~dlx.backends.emulated_backend.EmulatedBackend` (the same kernels on the CPU):

* launch configuration from the device's properties (:mod:`dlx.backends.launch_config`):
  ``block_size`` threads, a grid capped at a few waves of the device's resident threads (the
  kernels use grid-stride loops, so a capped grid is still correct); softmax rows go to a
  warp or a block per row by their class count; window kernels use 32-bit index arithmetic
  when every extent fits;
* inputs are made C-contiguous (and converted to the kernel's dtype) once, before the launch;
* dtype dispatch: float32 arrays call ``<kernel>_f32``, float64 arrays ``<kernel>_f64``;
* every scalar is passed as an explicit NumPy dtype matching the kernel's parameter
  (``numpy.int64`` for ``long long``, ``numpy.int32`` for the ``_i32`` kernels' ``int``): a
  Python int would be sent as 64-bit whatever the parameter is (cupy/cupy#8485);
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
from dlx.backends import launch_config as lc
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

    def args(self, index_suffix: str = "") -> tuple:
        """The geometry as kernel scalars: int32 for the ``_i32`` kernels, else int64."""
        kind = np.int32 if index_suffix == "_i32" else np.int64
        return tuple(kind(v) for v in astuple(self))


class KernelBackend(RnnCellKernels, Backend):
    """A backend whose primitives launch the compiled kernels (see the module docstring)."""

    #: threads per block of the element-wise kernels (and of the warp-per-row kernels)
    block_size = 256
    #: cap on blocks per launch; None: from the device (see launch_config.grid_size)
    max_blocks: int | None = None
    #: most threads of the single-block reduction (softmax_ce_finish: one per partial sum)
    reduce_block = 256
    #: softmax rows of up to this many classes go to a warp, longer ones to a block
    warp_max_classes = lc.WARP_MAX_CLASSES

    def __init__(self, seed: int = 0, *, block_size: int | None = None,
                 max_blocks: int | None = None):
        if block_size is not None:
            self.block_size = int(block_size)
        if max_blocks is not None:
            self.max_blocks = int(max_blocks)
        if not (1 <= self.block_size <= 1024 and (self.max_blocks is None or self.max_blocks >= 1)):
            raise ConfigError(f"block_size must be in [1, 1024] and max_blocks >= 1, got "
                              f"{self.block_size} and {self.max_blocks}")
        super().__init__(seed)

    @abstractmethod
    def _function(self, module: str, name: str):
        """Entry point ``name`` of ``kernels/<module>.cu``, callable as ``f(grid, block, args)``."""

    def conv_columns(self, x_shape, kernel, stride, padding, dtype=None):
        """Every convolution through the im2col/col2im kernels: the emulated backend too
        (which is a NumPy backend otherwise), so that CI runs the GPU's convolution path."""
        return Backend.conv_columns(self, x_shape, kernel, stride, padding, dtype)

    def batch_norm_kernels(self, x):
        """None: batch norm runs on the array module (the emulated backend is a NumPy
        backend otherwise, whose compiled CPU kernels must not stand in for the GPU's)."""
        return None

    def kernels_state(self) -> dict:
        """Convolutions run through the im2col/col2im kernels of ``kernels/im2col.cu``, batch
        norm through the array module."""
        return {"engine": "cuda kernels (im2col)"}

    def device_limits(self) -> lc.DeviceLimits:
        """The properties launch configurations are computed from (the GPU's, or the
        emulated device's)."""
        return lc.EMULATED_DEVICE

    # -- launch plumbing -------------------------------------------------------------------
    def _launch(self, module: str, kernel: str, dtype, n_items: int, args,
                *, single_block: bool = False) -> None:
        """Run ``<kernel>_<f32|f64>`` over ``n_items`` (grid-stride, ``block_size`` threads per
        block, the grid capped from the device) or as one block of ``reduce_block`` threads."""
        if single_block:
            self._launch_grid(module, kernel, dtype, 1, self.reduce_block, args)
            return
        if n_items == 0:
            return
        block = min(self.block_size, self.device_limits().max_threads_per_block)
        grid = lc.grid_size(n_items, block, block, self.device_limits(), self.max_blocks)
        self._launch_grid(module, kernel, dtype, grid, block, args)

    def _launch_grid(self, module: str, kernel: str, dtype, grid: int, block: int,
                     args) -> None:
        """Run ``<kernel>_<f32|f64>`` as ``grid`` blocks of ``block`` threads."""
        name = f"{kernel}_{kernel_sources.SUFFIXES[np.dtype(dtype).name]}"
        self._function(module, name)((grid,), (block,), tuple(args))

    def _launch_window(self, module: str, kernel: str, dtype, n_items: int, arrays,
                       g: Geometry) -> str:
        """A window kernel in 32-bit index arithmetic when every array fits, else 64-bit;
        returns the kernel name it launched."""
        name = kernel + lc.index_suffix(*(a.size for a in arrays))
        self._launch(module, name, dtype, n_items, (*arrays, *g.args(name[len(kernel):])))
        return name

    def _row_team(self, m: int, k: int) -> tuple[str, int, int, tuple]:
        """(team, threads per block, rows per block, extra kernel arguments) for ``m`` softmax
        rows of ``k`` classes: segments of ``width`` lanes (the power of 2 >= k, at most a
        warp) in blocks of at most ``block_size`` threads, fewer warps per block when that
        leaves SMs idle; or a block per row."""
        if k <= self.warp_max_classes:
            width = min(lc.WARP, 1 << max(0, k - 1).bit_length())
            rows_per_warp = lc.WARP // width
            warps = max(1, lc.round_up(self.block_size, lc.WARP) // lc.WARP)
            warps = max(1, min(warps, -(-m // (rows_per_warp * self.device_limits().sm_count))))
            return "warp", warps * lc.WARP, warps * rows_per_warp, (np.int64(width),)
        return "block", lc.row_block_threads(k, self.device_limits()), 1, ()

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
        self._launch_window("im2col", "im2col", x.dtype, g.c * cols.shape[1], (x, cols), g)
        return cols

    def col2im(self, cols, x_shape, kernel, stride, padding):
        cols = self._float_input("col2im", "cols", cols, 2)
        g = Geometry.of("col2im", x_shape, kernel, stride, padding)
        expected = (g.c * g.fh * g.fw, g.n * g.oh * g.ow)
        if cols.shape != expected:
            raise ShapeError(f"col2im: cols must have shape {expected} for x_shape "
                             f"{tuple(x_shape)}, got {cols.shape}")
        dx = self.xp.empty((g.n, g.c, g.h, g.w), dtype=cols.dtype)
        self._launch_window("im2col", "col2im", cols.dtype, dx.size, (cols, dx), g)
        return dx

    # -- max pooling -----------------------------------------------------------------------
    def maxpool_fwd(self, x, kernel, stride, padding):
        x = self._float_input("maxpool_fwd", "x", x, 4)
        g = Geometry.of("maxpool_fwd", x.shape, kernel, stride, padding)
        y = self.xp.empty((g.n, g.c, g.oh, g.ow), dtype=x.dtype)
        argmax = self.xp.empty(y.shape, dtype=np.int32)
        self._launch_window("maxpool", "maxpool_fwd", x.dtype, y.size, (x, y, argmax), g)
        return y, argmax

    def maxpool_bwd(self, gy, argmax, x_shape, kernel, stride, padding):
        gy = self._float_input("maxpool_bwd", "gy", gy, 4)
        g = Geometry.of("maxpool_bwd", x_shape, kernel, stride, padding)
        out_shape = (g.n, g.c, g.oh, g.ow)
        if gy.shape != out_shape:
            raise ShapeError(f"maxpool_bwd: gy must have shape {out_shape}, got {gy.shape}")
        argmax = self._matching("maxpool_bwd", "argmax", argmax, out_shape, np.int32)
        dx = self.xp.empty((g.n, g.c, g.h, g.w), dtype=gy.dtype)
        self._launch_window("maxpool", "maxpool_bwd", gy.dtype, dx.size, (gy, argmax, dx), g)
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
        team, block, rows_per_block, width = self._row_team(m, k)
        grid = lc.grid_size(m, rows_per_block, block, self.device_limits(), self.max_blocks)
        lse = self.xp.empty(m, dtype=z.dtype)
        scale = self.xp.empty(m, dtype=z.dtype)
        part_count = self.xp.empty(grid, dtype=np.int64)
        part_sum = self.xp.empty(grid, dtype=z.dtype)
        loss = self.xp.empty((), dtype=z.dtype)
        flags = (np.int64(ignore_index), np.int64(has_weight))
        self._launch_grid("softmax_ce", f"softmax_ce_rows_{team}", z.dtype, grid, block,
                     (z, t, weight, lse, scale, part_count, part_sum, np.int64(m), np.int64(k),
                      *flags, *width))
        finish_block = min(self.reduce_block, lc.round_up(grid, lc.WARP))  # one part a thread
        self._launch_grid("softmax_ce", "softmax_ce_finish", z.dtype, 1, finish_block,
                          (part_count, part_sum, scale, loss, np.int64(m), np.int64(grid),
                           flags[1]))
        return loss, lse, scale

    def softmax_ce_bwd(self, z, lse, t, scale, gloss, ignore_index=-100):
        op = "softmax_ce_bwd"
        z = self._float_input(op, "logits z", z, 2)
        m, k = z.shape
        lse = self._matching(op, "lse", lse, (m,), z.dtype)
        t = self._labels(op, t, m)
        scale = self._matching(op, "scale", scale, (m,), z.dtype)
        gloss = self._contiguous(gloss, z.dtype)
        if gloss.size != 1:
            raise ShapeError(f"{op}: gloss must be a scalar (0-d array), got shape {gloss.shape}")
        gloss = gloss.reshape(())
        dz = self.xp.empty_like(z)
        if m == 0:
            return dz
        team, block, rows_per_block, width = self._row_team(m, k)
        grid = lc.grid_size(m, rows_per_block, block, self.device_limits(), self.max_blocks)
        self._launch_grid("softmax_ce", f"softmax_ce_bwd_{team}", z.dtype, grid, block,
                     (z, lse, t, scale, gloss, dz, np.int64(m), np.int64(k),
                      np.int64(ignore_index), *width))
        return dz
