"""Conv2D: loop-based float64 reference, gradient checks on every backend, padding modes,
1x1 convolution, errors, and that primitive results are never overwritten by later calls."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
import dlx.nn as nn
from dlx.errors import ConfigError, DtypeError, ShapeError
from dlx.gradcheck import gradient_check


def conv_reference(x, w, b, stride, pad):
    """Direct loops: z[n,k,oh,ow] = sum_{c,i,j} w[k,c,i,j] xpad[n,c,oh*sh+i,ow*sw+j] + b[k];
    returns z and a function gz -> (dx, dw, db)."""
    n, c, h, wd = x.shape
    k, _, fh, fw = w.shape
    (sh, sw), (ph, pw) = stride, pad
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh, ow = (h + 2 * ph - fh) // sh + 1, (wd + 2 * pw - fw) // sw + 1
    z = np.zeros((n, k, oh, ow))
    for a in range(n):
        for q in range(k):
            for r in range(oh):
                for s in range(ow):
                    z[a, q, r, s] = np.sum(w[q] * xp[a, :, r * sh:r * sh + fh, s * sw:s * sw + fw]) + b[q]

    def grads(gz):
        dxp, dw = np.zeros_like(xp), np.zeros_like(w)
        for a in range(n):
            for q in range(k):
                for r in range(oh):
                    for s in range(ow):
                        win = (a, slice(None), slice(r * sh, r * sh + fh), slice(s * sw, s * sw + fw))
                        dxp[win] += w[q] * gz[a, q, r, s]
                        dw[q] += xp[win] * gz[a, q, r, s]
        return dxp[:, :, ph:ph + h, pw:pw + wd], dw, gz.sum(axis=(0, 2, 3))

    return z, grads


@pytest.mark.parametrize("shape,wshape,stride,pad", [
    ((2, 3, 7, 5), (4, 3, 3, 3), (1, 1), (1, 1)),
    ((2, 3, 9, 7), (2, 3, 3, 2), (2, 1), (1, 2)),
    ((1, 2, 8, 9), (3, 2, 5, 5), (3, 2), (2, 0)),
    ((3, 5, 6, 6), (4, 5, 1, 1), (2, 2), (0, 0)),
])
@pytest.mark.parametrize("chunked", [False, True], ids=["one-chunk", "per-sample-chunks"])
def test_conv2d_matches_the_loop_reference(backend, rng, monkeypatch, shape, wshape, stride,
                                           pad, chunked):
    if chunked:  # force one sample per chunk: columns are rebuilt in backward
        monkeypatch.setattr(backend, "conv_chunk_bytes", 1)
    x, w, b = rng.normal(size=shape), rng.normal(size=wshape), rng.normal(size=wshape[0])
    z_ref, grads = conv_reference(x, w, b, stride, pad)
    xt = dlx.Tensor(backend.asarray(x), requires_grad=True)
    wt, bt = dlx.Parameter(backend.asarray(w)), dlx.Parameter(backend.asarray(b))
    z = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
    np.testing.assert_allclose(backend.to_host(z.data), z_ref, rtol=1e-10, atol=1e-10)
    gz = rng.normal(size=z_ref.shape)
    z.backward(backend.asarray(gz))
    for got, want in zip((xt.grad, wt.grad, bt.grad), grads(gz)):
        np.testing.assert_allclose(backend.to_host(got), want, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(backend.to_host(xt.data), x)  # input untouched


@pytest.mark.parametrize("stride,padding", [(2, 1), (1, "same"), ((2, 1), (0, 1))])
def test_conv2d_gradient_check(backend, rng, stride, padding):
    x = dlx.Tensor(backend.asarray(rng.normal(size=(2, 2, 5, 6))), requires_grad=True)
    w = dlx.Parameter(backend.asarray(rng.normal(size=(3, 2, 3, 3))))
    b = dlx.Parameter(backend.asarray(rng.normal(size=3)))
    diff = gradient_check(lambda: F.conv2d(x, w, b, stride, padding), [x, w, b])
    assert diff < 1e-7


def test_conv2d_non_contiguous_input(backend, rng):
    x = rng.normal(size=(2, 3, 6, 5))
    w = backend.asarray(rng.normal(size=(2, 3, 3, 3)))
    ref = backend.to_host(F.conv2d(backend.asarray(x), w, padding=1).data)
    strided = backend.asarray(np.asfortranarray(x))
    np.testing.assert_allclose(backend.to_host(F.conv2d(strided, w, padding=1).data), ref,
                               rtol=1e-12, atol=1e-12)


def test_padding_modes_and_output_size(backend):
    x = np.ones((1, 1, 7, 7), np.float32)
    assert nn.Conv2D(1, 2, 3, padding="same")(x).shape == (1, 2, 7, 7)
    assert nn.Conv2D(1, 2, 5, padding="same")(x).shape == (1, 2, 7, 7)
    assert nn.Conv2D(1, 2, 3, padding="valid")(x).shape == (1, 2, 5, 5)
    assert nn.Conv2D(1, 2, 3, stride=2, padding="same")(x).shape == (1, 2, 4, 4)
    assert nn.Conv2D(1, 2, (3, 1), stride=(2, 1), padding=(0, 2))(x).shape == (1, 2, 3, 11)


def test_one_by_one_convolution_mixes_channels_per_pixel(backend, rng):
    x = rng.normal(size=(2, 4, 3, 5))
    w = rng.normal(size=(6, 4, 1, 1))
    z = F.conv2d(backend.asarray(x), backend.asarray(w))
    np.testing.assert_allclose(backend.to_host(z.data), np.einsum("kc,nchw->nkhw", w[:, :, 0, 0], x),
                               rtol=1e-12, atol=1e-12)


def test_conv2d_layer_shapes_init_and_bias(backend):
    layer = nn.Conv2D(8, 32, 3)
    assert layer.W.shape == (32, 8, 3, 3) and layer.b.shape == (32,)
    assert layer.W.dtype == np.float32
    std = backend.to_host(layer.W.data).std()
    assert abs(std / np.sqrt(2 / (8 * 9)) - 1) < 0.1  # He: sqrt(2 / (n_C_prev f f))
    assert nn.Conv2D(2, 3, 3, bias=False).b is None
    assert len(nn.Conv2D(2, 3, 3, bias=False).parameters()) == 1


def test_conv_errors_name_the_problem(backend):
    with pytest.raises(ShapeError, match="channels"):
        nn.Conv2D(3, 4, 3)(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ShapeError, match="NCHW"):
        nn.Conv2D(3, 4, 3)(np.zeros((5, 5), np.float32))
    with pytest.raises(ShapeError, match="does not fit"):
        nn.Conv2D(1, 1, 5)(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ConfigError, match="odd"):
        nn.Conv2D(1, 1, 2, padding="same")
    with pytest.raises(ConfigError, match="padding"):
        nn.Conv2D(1, 1, 3, padding="full")
    with pytest.raises(DtypeError):
        F.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3), np.float32))


def test_im2col_output_survives_later_calls(backend, rng):
    x1, x2 = rng.normal(size=(8, 16, 32, 32)), rng.normal(size=(8, 16, 32, 32))
    cols1 = backend.im2col(backend.asarray(x1), (3, 3), (1, 1), (1, 1))
    kept = backend.to_host(cols1).copy()
    backend.im2col(backend.asarray(x2), (3, 3), (1, 1), (1, 1))
    np.testing.assert_array_equal(backend.to_host(cols1), kept)
