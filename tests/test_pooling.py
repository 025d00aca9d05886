"""Max/average pooling against direct loops (inputs without ties), gradient checks on every
backend, global average pooling and flatten."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
import dlx.nn as nn
from dlx.errors import ConfigError
from dlx.gradcheck import gradient_check


def pool_reference(x, f, s, p, mode):
    """Loops over every window; returns y and gy -> dx (first maximum / equal shares)."""
    n, c, h, w = x.shape
    (fh, fw), (sh, sw), (ph, pw) = f, s, p
    fill = -np.inf if mode == "max" else 0.0
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), fill)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    oh, ow = (h + 2 * ph - fh) // sh + 1, (w + 2 * pw - fw) // sw + 1
    y = np.zeros((n, c, oh, ow))
    for a in range(n):
        for q in range(c):
            for r in range(oh):
                for t in range(ow):
                    win = xp[a, q, r * sh:r * sh + fh, t * sw:t * sw + fw]
                    y[a, q, r, t] = win.max() if mode == "max" else win.mean()

    def grad(gy):
        dxp = np.zeros_like(xp)
        for a in range(n):
            for q in range(c):
                for r in range(oh):
                    for t in range(ow):
                        win = dxp[a, q, r * sh:r * sh + fh, t * sw:t * sw + fw]
                        if mode == "max":
                            src = xp[a, q, r * sh:r * sh + fh, t * sw:t * sw + fw]
                            i, j = np.unravel_index(np.argmax(src), src.shape)
                            win[i, j] += gy[a, q, r, t]
                        else:
                            win += gy[a, q, r, t] / (fh * fw)
        return dxp[:, :, ph:ph + h, pw:pw + w]

    return y, grad


def no_ties(rng, shape):
    return rng.permutation(np.prod(shape)).reshape(shape) / np.prod(shape) - 0.5


GEOMETRIES = [((2, 3, 7, 5), (2, 2), (2, 2), (0, 0)),
              ((2, 2, 9, 7), (3, 3), (2, 2), (1, 1)),
              ((1, 3, 8, 9), (3, 2), (1, 2), (1, 0))]


@pytest.mark.parametrize("mode,fn", [("max", F.max_pool2d), ("avg", F.avg_pool2d)])
@pytest.mark.parametrize("shape,f,s,p", GEOMETRIES)
def test_pooling_matches_the_loop_reference(backend, rng, mode, fn, shape, f, s, p):
    x = no_ties(rng, shape)
    y_ref, grad = pool_reference(x, f, s, p, mode)
    xt = dlx.Tensor(backend.asarray(x), requires_grad=True)
    y = fn(xt, f, s, p)
    np.testing.assert_allclose(backend.to_host(y.data), y_ref, rtol=1e-10, atol=1e-10)
    gy = rng.normal(size=y_ref.shape)
    y.backward(backend.asarray(gy))
    np.testing.assert_allclose(backend.to_host(xt.grad), grad(gy), rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(backend.to_host(xt.data), x)


@pytest.mark.parametrize("fn", [F.max_pool2d, F.avg_pool2d])
@pytest.mark.parametrize("f,s,p", [(2, None, 0), (3, 2, 1)])
def test_pooling_gradient_check(backend, rng, fn, f, s, p):
    x = dlx.Tensor(backend.asarray(no_ties(rng, (2, 2, 6, 5))), requires_grad=True)
    assert gradient_check(lambda: fn(x, f, s, p), [x]) < 1e-7


def test_max_pool_ties_go_to_the_first_maximum(backend):
    y, argmax = backend.maxpool_fwd(backend.asarray(np.zeros((1, 1, 4, 4))), (2, 2), (2, 2), (0, 0))
    assert not backend.to_host(argmax).any()


def test_global_avg_pool_and_flatten(backend, rng):
    x = rng.normal(size=(3, 4, 5, 2))
    xt = dlx.Tensor(backend.asarray(x), requires_grad=True)
    g = nn.GlobalAvgPool2D()(xt)
    np.testing.assert_allclose(backend.to_host(g.data), x.mean(axis=(2, 3)), rtol=1e-12)
    assert gradient_check(lambda: nn.GlobalAvgPool2D()(xt), [xt]) < 1e-7
    flat = nn.Flatten()(xt)
    assert flat.shape == (3, 40)
    np.testing.assert_array_equal(backend.to_host(flat.data), x.reshape(3, 40))


def test_pool_layers_default_stride_is_the_kernel(backend):
    x = np.zeros((2, 3, 8, 6), np.float32)
    assert nn.MaxPool2D(2)(x).shape == (2, 3, 4, 3)
    assert nn.AvgPool2D(3, stride=1, padding=1)(x).shape == (2, 3, 8, 6)
    with pytest.raises(ConfigError, match="padding"):
        nn.MaxPool2D(2, padding=2)


def test_numpy_max_pooling_split_over_threads_matches_one_piece(rng, monkeypatch):
    """Large inputs are pooled in batch slices on parallel threads: same bits as one call."""
    from dlx.backends import numpy_backend, numpy_primitives

    be = dlx.backends.get("numpy")
    monkeypatch.setattr(numpy_backend, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(numpy_backend, "blas_threads", lambda: 3)
    x = rng.permutation(7 * 2 * 9 * 9).reshape(7, 2, 9, 9).astype(np.float64)  # no ties
    args = ((3, 3), (2, 2), (1, 1))
    y, arg = be.maxpool_fwd(x, *args)
    y1, arg1 = numpy_primitives.maxpool_fwd(x, *args)
    np.testing.assert_array_equal(y, y1)
    np.testing.assert_array_equal(arg, arg1)
    gy = rng.normal(size=y.shape)
    np.testing.assert_array_equal(be.maxpool_bwd(gy, arg, x.shape, *args),
                                  numpy_primitives.maxpool_bwd(gy, arg, x.shape, *args))
