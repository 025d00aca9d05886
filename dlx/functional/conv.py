"""2-D convolution (the deep-learning "convolution", i.e. cross-correlation) on NCHW input.

Shapes: x (N, C, H, W), weight (K, C, fh, fw) — the course's (n_C, n_C_prev, f, f) —,
bias (K,), output (N, K, OH, OW) with OH = floor((H + 2 ph - fh) / sh) + 1 (OW likewise).

    Z[n, k, oh, ow] = sum_{c,i,j} W[k, c, i, j] * xpad[n, c, oh*sh + i, ow*sw + j] + b[k]

Forward is the backend's im2col followed by one GEMM: with X_col = im2col(x) of shape
(C*fh*fw, N*OH*OW) and W_row = W reshaped to (K, C*fh*fw), Z_row = W_row @ X_col.
Backward, with dZ_row = dZ as (K, N*OH*OW):
    dW = dZ_row @ X_col^T,   db = sum of dZ over (N, OH, OW),   dx = col2im(W_row^T @ dZ_row)
A 1x1 convolution is the case fh = fw = 1 (a per-pixel Dense layer across channels).
"""

from __future__ import annotations

from dlx.backends import as_pair, conv_output_size
from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ConfigError, DtypeError, ShapeError


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
    """Z = conv(x, W) + b; see the module docstring for the formulas."""

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, w, b=None):
        xp = self.xp
        k, c = w.shape[0], w.shape[1]
        kernel = (w.shape[2], w.shape[3])
        oh, ow = check_window("conv2d", x.shape, kernel, self.stride, self.padding)
        if x.shape[1] != c:
            raise ShapeError(f"conv2d: input has {x.shape[1]} channels but the weight "
                             f"{tuple(w.shape)} expects {c}")
        if x.dtype != w.dtype:
            raise DtypeError(f"conv2d: input dtype {x.dtype} differs from the weight's "
                             f"{w.dtype}; cast the input (dtypes are never mixed silently)")
        n = x.shape[0]
        cols = self.backend.im2col(x, kernel, self.stride, self.padding)
        w_row = w.reshape(k, -1)
        z_row = w_row @ cols  # (K, N*OH*OW)
        z = xp.empty((n, k, oh, ow), dtype=z_row.dtype)
        z_view = z_row.reshape(k, n, oh, ow).transpose(1, 0, 2, 3)
        if b is None:
            z[...] = z_view
        else:
            xp.add(z_view, b.reshape(1, k, 1, 1), out=z)
        self.cols, self.w_row, self.x_shape, self.kernel = cols, w_row, x.shape, kernel
        self.has_bias = b is not None
        return z

    def backward(self, gz):
        k = self.w_row.shape[0]
        gz_row = gz.transpose(1, 0, 2, 3).reshape(k, -1)  # (K, N*OH*OW), one copy
        gw = (gz_row @ self.cols.T).reshape(k, self.x_shape[1], *self.kernel)
        gx = None
        if self.needs_grad[0]:
            gx = self.backend.col2im(self.w_row.T @ gz_row, self.x_shape, self.kernel,
                                     self.stride, self.padding)
        if self.has_bias:
            return gx, gw, gz_row.sum(axis=1)
        return gx, gw


def conv2d(x, weight, bias=None, stride=1, padding=0) -> Tensor:
    """2-D convolution of NCHW ``x`` with ``weight`` (K, C, fh, fw) and optional ``bias`` (K,).

    ``stride``: int or (sh, sw). ``padding``: int, (ph, pw), ``"valid"`` or ``"same"``
    (see :func:`conv_padding`). Returns (N, K, OH, OW).
    """
    x, weight = as_tensor(x), as_tensor(weight)
    if weight.ndim != 4:
        raise ShapeError(f"conv2d: weight must be (n_C, n_C_prev, fh, fw), got shape "
                         f"{tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"conv2d: bias must have shape ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)}")
    kernel = (weight.shape[2], weight.shape[3])
    fn = Conv2d(as_pair(stride, "conv2d stride"), conv_padding(padding, kernel))
    return fn(x, weight) if bias is None else fn(x, weight, as_tensor(bias))
