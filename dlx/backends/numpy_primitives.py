"""Vectorised NumPy implementations of the three hot primitives.

Contract (shapes, layouts, tie-breaking) is documented in :mod:`dlx.backends.base`.
No Python loop runs over samples or pixels: the only loops are over the fh*fw kernel
offsets, each step moving a whole strided slice.

Why it is written this way (measured on a 2-core machine, conv N=64, C=16, 32x32, 3x3):

* channel-major columns copied from strided views of the padded input, one slice per
  kernel offset: ~3 ms for the 37 MiB column matrix, at memory bandwidth;
* no buffer cache: a fresh allocation over 32 MiB is mmap-ed by glibc and unmapped on
  free (thousands of page faults per call), but convolutions call these primitives on
  cache-sized chunks of the batch (``NumpyBackend.conv_chunk_bytes``, 4 MiB of columns),
  which glibc serves from its heap; a recycling workspace measured no faster after
  chunking and held tens of MiB;
* col2im adds one strided slice per kernel offset straight into the unpadded result
  (no padded temporary, no crop copy) — about 10x faster than ``np.add.at``;
* splitting those loops into channel blocks on parallel threads (NumPy releases the GIL)
  saved ~2 ms of ~40 on an idle machine but lost badly when the cores were shared with
  OpenBLAS threads and other processes, so the primitives stay single-threaded;
* max pooling is ``np.maximum`` over the f*f strided slices (it propagates NaN), then one
  comparison pass per offset (last to first) to find the first maximum -- or the first NaN.
"""

from __future__ import annotations


import numpy as np

from dlx.backends.base import conv_output_size


# -- helpers -------------------------------------------------------------------------------
def _out_hw(x_shape, kernel, stride, padding):
    _, _, h, w = x_shape
    return (conv_output_size(h, kernel[0], stride[0], padding[0]),
            conv_output_size(w, kernel[1], stride[1], padding[1]))


def _pad(x: np.ndarray, ph: int, pw: int, value: float) -> np.ndarray:
    """x with a border of ``value`` (x itself when there is no padding)."""
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    out = np.empty((n, c, h + 2 * ph, w + 2 * pw), x.dtype)
    out[:, :, :ph] = value
    out[:, :, ph + h:] = value
    out[:, :, ph:ph + h, :pw] = value
    out[:, :, ph:ph + h, pw + w:] = value
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _offset_slice(a, i, j, stride, oh, ow):
    """The (..., OH, OW) view of ``a`` read by kernel offset (i, j)."""
    sh, sw = stride
    return a[..., i: i + sh * (oh - 1) + 1: sh, j: j + sw * (ow - 1) + 1: sw]


def _valid_range(offset, pad, stride, n_out, n_in):
    """For one kernel offset along an axis: the output indices [o0, o1) whose tap
    ``o*stride + offset - pad`` lands inside the input, and that tap's first input index."""
    o0 = max(0, -(-(pad - offset) // stride))  # ceil((pad - offset) / stride), at least 0
    o1 = min(n_out, (n_in - 1 + pad - offset) // stride + 1)
    return o0, max(o0, o1), o0 * stride + offset - pad


# -- im2col / col2im -----------------------------------------------------------------------
def im2col(x, kernel, stride, padding):
    """(N, C, H, W) -> (C*fh*fw, N*OH*OW), channel-major columns (see base module)."""
    n, c, _, _ = x.shape
    fh, fw = kernel
    oh, ow = _out_hw(x.shape, kernel, stride, padding)
    xpad_t = _pad(x, *padding, value=0).transpose(1, 0, 2, 3)  # (C, N, Hp, Wp) view
    cols = np.empty((c * fh * fw, n * oh * ow), x.dtype)
    cols6 = cols.reshape(c, fh, fw, n, oh, ow)

    for i in range(fh):
        for j in range(fw):
            np.copyto(cols6[:, i, j], _offset_slice(xpad_t, i, j, stride, oh, ow))
    return cols


def col2im(cols, x_shape, kernel, stride, padding):
    """Adjoint of :func:`im2col`: (C*fh*fw, N*OH*OW) -> (N, C, H, W).

    For each kernel offset (i, j), the strided slice of the input it read receives the
    matching column rows (restricted to taps inside the unpadded image).
    """
    n, c, h, w = x_shape
    fh, fw = kernel
    sh, sw = stride
    ph, pw = padding
    oh, ow = _out_hw(x_shape, kernel, stride, padding)
    cols6 = cols.reshape(c, fh, fw, n, oh, ow)
    dx = np.empty((n, c, h, w), cols.dtype)
    dx.fill(0)
    dx_t = dx.transpose(1, 0, 2, 3)  # (C, N, H, W) view, matching the column rows
    for i in range(fh):
        r0, r1, x_r = _valid_range(i, ph, sh, oh, h)
        for j in range(fw):
            q0, q1, x_q = _valid_range(j, pw, sw, ow, w)
            if r1 > r0 and q1 > q0:
                dx_t[:, :, x_r: x_r + sh * (r1 - r0 - 1) + 1: sh,
                     x_q: x_q + sw * (q1 - q0 - 1) + 1: sw] += cols6[:, i, j, :, r0:r1, q0:q1]
    return dx


# -- max pooling ---------------------------------------------------------------------------
def maxpool_fwd(x, kernel, stride, padding):
    """Max over each window; argmax is the first maximum's offset i*fw + j (int32)."""
    fh, fw = kernel
    oh, ow = _out_hw(x.shape, kernel, stride, padding)
    xpad = _pad(x, *padding, value=-np.inf)
    windows = [_offset_slice(xpad, k // fw, k % fw, stride, oh, ow) for k in range(fh * fw)]
    y = np.array(windows[0])
    for window in windows[1:]:
        np.maximum(y, window, out=y)
    argmax = np.zeros(y.shape, dtype=np.int32)
    hit = np.empty(y.shape, dtype=bool)
    step = np.empty_like(argmax)
    nan_y = np.isnan(y)  # np.maximum propagates NaN; its argmax is the window's first NaN
    has_nan = bool(nan_y.any())
    for k in range(fh * fw - 1, -1, -1):  # last to first: the first maximum is written last
        np.equal(windows[k], y, out=hit)
        if has_nan:
            hit |= nan_y & np.isnan(windows[k])
        # argmax = k where hit, as argmax += hit * (k - argmax): three SIMD passes take a
        # tenth of np.copyto(argmax, k, where=hit)'s time (1.3 ms per 300k outputs)
        np.subtract(k, argmax, out=step)
        step *= hit
        argmax += step
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
    return np.ascontiguousarray(dxpad[:, :, ph: ph + h, pw: pw + w])


# -- softmax cross-entropy -----------------------------------------------------------------
def softmax_ce_fwd(z, t, ignore_index=-100, sample_weight=None):
    """Stable softmax cross-entropy; see :mod:`dlx.backends.base` for the contract."""
    m, k = z.shape
    zmax = z.max(axis=1, keepdims=True)
    e = np.subtract(z, zmax)
    np.exp(e, out=e)
    lse = zmax[:, 0] + np.log(e.sum(axis=1))
    rows = np.arange(m)
    if _every_label_counts(t, k, ignore_index):  # the usual case, in a third fewer calls
        row_loss = (lse - z[rows, t]).astype(z.dtype, copy=False)
        if sample_weight is None:
            scale = np.full(m, z.dtype.type(1) / z.dtype.type(m), dtype=z.dtype)
        else:
            scale = sample_weight.astype(z.dtype, copy=False)
        return np.asarray(np.dot(row_loss, scale), dtype=z.dtype), \
            lse.astype(z.dtype, copy=False), scale
    valid = t != ignore_index
    in_range = (t >= 0) & (t < k)
    picked = z[rows, np.where(in_range, t, 0)]
    row_loss = np.where(in_range | ~valid, lse - picked, np.nan).astype(z.dtype, copy=False)
    if sample_weight is None:
        scale = valid.astype(z.dtype) / z.dtype.type(max(int(valid.sum()), 1))
    else:
        scale = np.where(valid, sample_weight, 0).astype(z.dtype, copy=False)
    loss = np.asarray(np.dot(np.where(valid, row_loss, 0), scale), dtype=z.dtype)
    return loss, lse.astype(z.dtype, copy=False), scale


def _every_label_counts(t, k, ignore_index) -> bool:
    """Every label is a class in [0, k) and none is ``ignore_index`` (no row to mask)."""
    return t.size > 0 and 0 <= int(t.min()) and int(t.max()) < k and not (
        0 <= ignore_index < k and bool((t == ignore_index).any()))


def softmax_ce_bwd(z, lse, t, scale, gloss, ignore_index=-100):
    """dz = (exp(z - lse) - onehot(t)) * scale[:, None] * gloss; ignored rows are zero."""
    m, k = z.shape
    dz = np.subtract(z, lse[:, None])
    np.exp(dz, out=dz)
    if _every_label_counts(t, k, ignore_index):
        dz[np.arange(m), t] -= 1
    else:
        in_range = (t >= 0) & (t < k)
        dz[np.arange(m), np.where(in_range, t, 0)] -= in_range
        bad = ~in_range & (t != ignore_index)
        if bad.any():
            dz[bad] = np.nan
    dz *= (scale * gloss)[:, None]
    return dz
