"""Property tests (hypothesis): random conv/pool geometries on every backend.

For each drawn geometry: the output shape is floor((n + 2p - f) / s) + 1 per axis, the
forward pass equals a direct loop over windows in float64 NumPy, and on small cases the
gradients pass the directional check. A geometry whose window does not fit is refused with
ShapeError exactly when the formula gives an output size < 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlx.functional as F
from dlx import Tensor
from dlx.errors import ShapeError
from dlx.gradcheck import directional_check

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def geometries(draw, pool=False):
    """(x shape, kernel, stride, padding); pooling keeps padding <= half the kernel."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph = draw(st.integers(0, fh // 2 if pool else 2))
    pw = draw(st.integers(0, fw // 2 if pool else 2))
    return (n, c, h, w), (fh, fw), (sh, sw), (ph, pw)


def out_size(n, f, s, p):
    return (n + 2 * p - f) // s + 1


def fits(shape, kernel, stride, padding):
    return all(out_size(shape[2 + i], kernel[i], stride[i], padding[i]) >= 1 for i in (0, 1))


def windows(x, kernel, stride, padding, fill):
    """Yield (oh, ow, window) over x padded with ``fill``: the direct loop reference."""
    (fh, fw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    for i in range(out_size(x.shape[2], fh, sh, ph)):
        for j in range(out_size(x.shape[3], fw, sw, pw)):
            yield i, j, xp[:, :, i * sh:i * sh + fh, j * sw:j * sw + fw]


def conv_reference(x, w, b, stride, padding):
    kernel = w.shape[2:]
    oh, ow = (out_size(x.shape[2 + a], kernel[a], stride[a], padding[a]) for a in (0, 1))
    z = np.empty((x.shape[0], w.shape[0], oh, ow))
    for i, j, win in windows(x, kernel, stride, padding, 0.0):
        z[:, :, i, j] = np.einsum("ncij,kcij->nk", win, w) + b
    return z


def pool_reference(x, kernel, stride, padding, mode):
    oh, ow = (out_size(x.shape[2 + a], kernel[a], stride[a], padding[a]) for a in (0, 1))
    y = np.empty(x.shape[:2] + (oh, ow))
    fill = -np.inf if mode == "max" else 0.0
    for i, j, win in windows(x, kernel, stride, padding, fill):
        y[:, :, i, j] = win.max(axis=(2, 3)) if mode == "max" else win.mean(axis=(2, 3))
    return y


def distinct(rng, shape):
    """Values without ties (max pooling's gradient is then well defined)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1.0


@SETTINGS
@given(geometry=geometries(), k=st.integers(1, 3))
def test_conv2d_geometry(backend, geometry, k):
    shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=shape), rng.normal(size=(k, shape[1]) + kernel), rng.normal(size=k)
    xt, wt, bt = (Tensor(backend.asarray(a), requires_grad=True) for a in (x, w, b))
    if not fits(shape, kernel, stride, padding):
        with pytest.raises(ShapeError, match="does not fit"):
            F.conv2d(xt, wt, bt, stride=stride, padding=padding)
        return
    z = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    expected = conv_reference(x, w, b, stride, padding)
    assert z.shape == expected.shape == (shape[0], k) + tuple(
        out_size(shape[2 + a], kernel[a], stride[a], padding[a]) for a in (0, 1))
    np.testing.assert_allclose(backend.to_host(z.data), expected, rtol=1e-10, atol=1e-10)
    if z.size <= 64:
        assert directional_check(lambda: F.conv2d(xt, wt, bt, stride=stride,
                                                  padding=padding), [xt, wt, bt]) < 1e-6


@SETTINGS
@given(geometry=geometries(pool=True), mode=st.sampled_from(["max", "avg"]))
def test_pool2d_geometry(backend, geometry, mode):
    shape, kernel, stride, padding = geometry
    x = distinct(np.random.default_rng(1), shape)
    xt = Tensor(backend.asarray(x), requires_grad=True)
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    if not fits(shape, kernel, stride, padding):
        with pytest.raises(ShapeError, match="does not fit"):
            pool(xt, kernel, stride, padding)
        return
    y = pool(xt, kernel, stride, padding)
    expected = pool_reference(x, kernel, stride, padding, mode)
    assert y.shape == expected.shape
    np.testing.assert_allclose(backend.to_host(y.data), expected, rtol=1e-12, atol=1e-12)
    if y.size <= 64:
        assert directional_check(lambda: pool(xt, kernel, stride, padding), [xt]) < 1e-6
