"""Vectorised NumPy implementations of the three hot primitives.

Contract (shapes, layouts, tie-breaking) is documented in :mod:`dlx.backends.base`.
No Python loop runs over samples or pixels: the only loops are over the fh*fw kernel
offsets, each step moving a whole strided slice.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dlx.backends.base import conv_output_size


def _pad(x: np.ndarray, ph: int, pw: int, value: float = 0.0) -> np.ndarray:
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _out_hw(x_shape, kernel, stride, padding):
    _, _, h, w = x_shape
    return (conv_output_size(h, kernel[0], stride[0], padding[0]),
            conv_output_size(w, kernel[1], stride[1], padding[1]))


def _offset_slice(a, i, j, stride, oh, ow):
    """The (N, C, OH, OW) view of ``a`` read by kernel offset (i, j)."""
    sh, sw = stride
    return a[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]


def im2col(x, kernel, stride, padding, out=None):
    """(N, C, H, W) -> (C*fh*fw, N*OH*OW), channel-major columns (see base module)."""
    n, c, _, _ = x.shape
    fh, fw = kernel
    sh, sw = stride
    oh, ow = _out_hw(x.shape, kernel, stride, padding)
    xpad = _pad(x, *padding)
    s0, s1, s2, s3 = xpad.strides
    windows = as_strided(xpad, shape=(c, fh, fw, n, oh, ow),
                         strides=(s1, s2, s3, s0, s2 * sh, s3 * sw), writeable=False)
    if out is None:
        out = np.empty((c * fh * fw, n * oh * ow), dtype=x.dtype)
    np.copyto(out.reshape(c, fh, fw, n, oh, ow), windows)
    return out


def col2im(cols, x_shape, kernel, stride, padding):
    """Adjoint of :func:`im2col`: (C*fh*fw, N*OH*OW) -> (N, C, H, W)."""
    n, c, h, w = x_shape
    fh, fw = kernel
    ph, pw = padding
    oh, ow = _out_hw(x_shape, kernel, stride, padding)
    dxpad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    cols6 = cols.reshape(c, fh, fw, n, oh, ow)
    for i in range(fh):
        for j in range(fw):
            window = _offset_slice(dxpad, i, j, stride, oh, ow)
            window += cols6[:, i, j].transpose(1, 0, 2, 3)
    if ph == 0 and pw == 0:
        return dxpad
    return np.ascontiguousarray(dxpad[:, :, ph : ph + h, pw : pw + w])


def maxpool_fwd(x, kernel, stride, padding):
    """Max over each window; argmax is the first maximum's offset i*fw + j (int32)."""
    fh, fw = kernel
    oh, ow = _out_hw(x.shape, kernel, stride, padding)
    xpad = _pad(x, *padding, value=-np.inf)
    y = np.array(_offset_slice(xpad, 0, 0, stride, oh, ow))
    argmax = np.zeros(y.shape, dtype=np.int32)
    greater = np.empty(y.shape, dtype=bool)
    for k in range(1, fh * fw):
        window = _offset_slice(xpad, k // fw, k % fw, stride, oh, ow)
        np.greater(window, y, out=greater)
        np.copyto(y, window, where=greater)
        argmax[greater] = k
    return y, argmax


def maxpool_bwd(gy, argmax, x_shape, kernel, stride, padding):
    """Route gy to the arg-max pixel of each window, summing overlaps."""
    n, c, h, w = x_shape
    fh, fw = kernel
    ph, pw = padding
    oh, ow = gy.shape[2], gy.shape[3]
    dxpad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gy.dtype)
    routed = np.empty_like(gy)
    for k in range(fh * fw):
        np.multiply(gy, argmax == k, out=routed)
        window = _offset_slice(dxpad, k // fw, k % fw, stride, oh, ow)
        window += routed
    if ph == 0 and pw == 0:
        return dxpad
    return np.ascontiguousarray(dxpad[:, :, ph : ph + h, pw : pw + w])


def softmax_ce_fwd(z, t, ignore_index=-100, sample_weight=None):
    """Stable softmax cross-entropy; see :mod:`dlx.backends.base` for the contract."""
    m, k = z.shape
    zmax = z.max(axis=1, keepdims=True)
    e = np.exp(z - zmax)
    s = e.sum(axis=1, keepdims=True)
    probs = e / s
    valid = t != ignore_index
    in_range = (t >= 0) & (t < k)
    rows = np.arange(m)
    picked = z[rows, np.where(in_range, t, 0)]
    row_loss = np.log(s[:, 0]) + zmax[:, 0] - picked
    row_loss = np.where(in_range | ~valid, row_loss, np.nan).astype(z.dtype, copy=False)
    if sample_weight is None:
        scale = valid.astype(z.dtype) / z.dtype.type(max(int(valid.sum()), 1))
    else:
        scale = np.where(valid, sample_weight, 0).astype(z.dtype, copy=False)
    loss = np.asarray(np.dot(np.where(valid, row_loss, 0), scale), dtype=z.dtype)
    return loss, probs, scale


def softmax_ce_bwd(probs, t, scale, gloss, ignore_index=-100):
    """dz = (probs - onehot(t)) * scale[:, None] * gloss; ignored rows are zero."""
    m, k = probs.shape
    in_range = (t >= 0) & (t < k)
    dz = probs.copy()
    rows = np.arange(m)
    dz[rows, np.where(in_range, t, 0)] -= in_range
    dz[~in_range & (t != ignore_index)] = np.nan
    dz *= (scale * gloss)[:, None]
    return dz
