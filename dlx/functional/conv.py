"""2-D convolution (the deep-learning "convolution", i.e. cross-correlation) on NCHW input.

Shapes: x (N, C, H, W), weight (K, C, fh, fw) — the course's (n_C, n_C_prev, f, f) —,
bias (K,), output (N, K, OH, OW) with OH = floor((H + 2 ph - fh) / sh) + 1 (OW likewise).

    Z[n, k, oh, ow] = sum_{c,i,j} W[k, c, i, j] * xpad[n, c, oh*sh + i, ow*sw + j] + b[k]

Forward is a column matrix followed by a GEMM: with X_col = im2col(x) of shape
(C*fh*fw, N*P) (P positions per sample, OH*OW for the im2col primitive; the backend's column
layout, :mod:`dlx.backends.conv_columns`) and W_row = W reshaped to (K, C*fh*fw),
Z_row = W_row @ X_col. Backward, with dZ_row = dZ as (K, N*P):
    dW = dZ_row @ X_col^T,   db = sum of dZ over (N, OH, OW),   dx = col2im(W_row^T @ dZ_row)
(computed over cache-sized chunks of the batch; see :class:`Conv2d`).
A 1x1 convolution is the case fh = fw = 1 (a per-pixel Dense layer across channels).
"""

from __future__ import annotations

from dlx.backends import as_pair, conv_output_size
from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ConfigError, ShapeError
from dlx.functional.math import float_input


def conv_padding(padding, kernel, name: str = "conv2d") -> tuple[int, int]:
    """Resolve ``padding`` to (ph, pw).

    An int or a pair of ints is taken as is. ``"valid"``: no padding. ``"same"``: the
    course's p = (f - 1) / 2 per axis, so a stride-1 output keeps the input's size (with
    stride s the output has ceil(n / s) rows); it needs an odd filter size.
    """
    fh, fw = kernel
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0
        if mode == "same":
            if fh % 2 == 0 or fw % 2 == 0:
                raise ConfigError(f"{name}: padding='same' needs an odd filter size, got "
                                  f"{(fh, fw)}; give the padding as numbers instead")
            return (fh - 1) // 2, (fw - 1) // 2
        raise ConfigError(f"{name}: padding must be an int, a pair, 'valid' or 'same', "
                          f"got {padding!r}")
    ph, pw = as_pair(padding, f"{name} padding")
    if ph < 0 or pw < 0:
        raise ConfigError(f"{name}: padding must be >= 0, got {(ph, pw)}")
    return ph, pw


def check_window(name, x_shape, kernel, stride, padding) -> tuple[int, int]:
    """Validate a conv/pool geometry on an NCHW input shape and return (OH, OW)."""
    if len(x_shape) != 4:
        raise ShapeError(f"{name}: expected NCHW input (m, C, H, W), got shape {tuple(x_shape)}")
    if x_shape[0] == 0:
        raise ShapeError(f"{name}: the batch is empty (input shape {tuple(x_shape)}, m = 0); "
                         "give at least one example")
    if min(kernel) < 1 or min(stride) < 1:
        raise ConfigError(f"{name}: kernel and stride must be >= 1, got kernel {kernel}, "
                          f"stride {stride}")
    h, w = x_shape[2], x_shape[3]
    oh = conv_output_size(h, kernel[0], stride[0], padding[0])
    ow = conv_output_size(w, kernel[1], stride[1], padding[1])
    if oh < 1 or ow < 1:
        raise ShapeError(f"{name}: a {kernel} window with padding {padding} does not fit an "
                         f"input of {h}x{w}")
    return oh, ow


class Conv2d(Function):
    """Z = conv(x, W) + b; see the module docstring for the formulas.

    How the work is done is the layout's business (:meth:`Backend.conv_columns`): a column
    layout (:mod:`dlx.backends.conv_columns`) or, for float32 on the NumPy backend, the
    compiled direct convolution (:mod:`dlx.backends.direct_conv`). The layout splits the
    batch into chunks (``plan_chunks``): for the columns, chunks whose column matrix fits
    ``backend.conv_chunk_bytes`` (cache-sized on the CPU, unlimited on a GPU). With several
    chunks the columns are not kept for backward but rebuilt from x there: the peak memory
    of a convolution is then one chunk's columns instead of the whole batch's (5x less for
    LeNet-5 at batch 256), and the cache-sized GEMMs are no slower than one big one;
    ``backend.map_chunks`` may run the chunks on parallel threads (the NumPy backend does,
    with single-threaded BLAS).
    """

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, w, b=None):
        xp = self.xp
        k, c = w.shape[0], w.shape[1]
        self.kernel = (w.shape[2], w.shape[3])
        oh, ow = check_window("conv2d", x.shape, self.kernel, self.stride, self.padding)
        if x.shape[1] != c:
            raise ShapeError(f"conv2d: input has {x.shape[1]} channels but the weight "
                             f"{tuple(w.shape)} expects {c}")
        self.layout = self.backend.conv_columns(x.shape, self.kernel, self.stride,
                                                self.padding, x.dtype)
        x, self.w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
        z = xp.empty((x.shape[0], k, oh, ow), dtype=x.dtype)
        chunks, cache_sized = self.layout.plan_chunks(x.shape[0], self.backend)
        keep = len(chunks) == 1

        def forward_chunk(chunk):
            n0, n1 = chunk
            return self.layout.forward(x[n0:n1], self.w, b, z[n0:n1], keep)

        # one chunk: a column layout keeps its columns for backward; else keep x
        self.cols = self.backend.map_chunks(forward_chunk, chunks, cache_sized)[0]
        self.layout.release()
        self.x = x if self.cols is None else None
        self.x_shape, self.has_bias = x.shape, b is not None
        return z

    def backward(self, gz):
        xp = self.xp
        gz = xp.ascontiguousarray(gz)
        gx = xp.empty(self.x_shape, dtype=gz.dtype) if self.needs_grad[0] else None

        def backward_chunk(chunk):  # this chunk's dW, (C*fh*fw, K); its dx into gx
            n0, n1 = chunk
            return self.layout.gradients(self.w, gz[n0:n1], None if gx is None else gx[n0:n1],
                                         x=None if self.x is None else self.x[n0:n1],
                                         cols=self.cols)

        partial = self.backend.map_chunks(backward_chunk,
                                          *self.layout.plan_chunks(self.x_shape[0], self.backend))
        self.layout.release()
        gw = partial[0]
        for more in partial[1:]:  # summed in chunk order: the same bits on every run
            gw += more
        gw = gw.T.reshape(self.w.shape)
        if self.has_bias:
            return gx, gw, gz.sum(axis=(0, 2, 3))
        return gx, gw


def conv2d(x, weight, bias=None, stride=1, padding=0) -> Tensor:
    """2-D convolution of NCHW ``x`` with ``weight`` (K, C, fh, fw) and optional ``bias`` (K,).

    ``stride``: int or (sh, sw). ``padding``: int, (ph, pw), ``"valid"`` or ``"same"``
    (see :func:`conv_padding`). Returns (N, K, OH, OW).
    """
    weight = as_tensor(weight)
    x = float_input(x, weight.dtype)
    if weight.ndim != 4:
        raise ShapeError(f"conv2d: weight must be (n_C, n_C_prev, fh, fw), got shape "
                         f"{tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"conv2d: bias must have shape ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)}")
    kernel = (weight.shape[2], weight.shape[3])
    fn = Conv2d(as_pair(stride, "conv2d stride"), conv_padding(padding, kernel))
    return fn(x, weight) if bias is None else fn(x, weight, as_tensor(bias))
