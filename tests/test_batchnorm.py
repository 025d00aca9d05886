"""Batch normalisation, dense (m, n) and NCHW per channel: values, gradients, running stats."""

from __future__ import annotations

import numpy as np
import pytest

import dlx
from dlx import functional as F
from dlx import nn
from dlx.core import Tensor
from dlx.errors import ShapeError
from dlx.gradcheck import directional_check, gradient_check

SHAPES = {"dense": (6, 4), "nchw": (3, 2, 3, 3)}


def float64(backend):
    """Build parameters in float64 (gradient checks) and restore the default afterwards."""
    return dlx.default_dtype("float64")


def reference(x, gamma, beta, eps, mean=None, var=None):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if mean is None:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * xhat + beta.reshape(shape), mean, var


def make(backend, rng, kind):
    with float64(backend):
        layer = (nn.BatchNorm if kind == "dense" else nn.BatchNorm2D)(SHAPES[kind][1])
    layer.gamma.data = backend.asarray(rng.uniform(0.5, 2.0, layer.gamma.shape))
    layer.beta.data = backend.asarray(rng.normal(size=layer.beta.shape))
    x_host = rng.normal(2.0, 3.0, SHAPES[kind])
    return layer, x_host


@pytest.mark.parametrize("kind", list(SHAPES))
def test_training_forward_matches_reference_and_updates_running_stats(backend, rng, kind):
    layer, x_host = make(backend, rng, kind)
    x = backend.asarray(x_host.copy())
    y = layer(Tensor(x))
    want, mean, var = reference(x_host, backend.to_host(layer.gamma.data),
                                backend.to_host(layer.beta.data), layer.eps)
    np.testing.assert_allclose(y.to_numpy(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(backend.to_host(x), x_host)  # input not modified
    np.testing.assert_allclose(backend.to_host(layer.running_mean), 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(backend.to_host(layer.running_var), 0.9 + 0.1 * var,
                               rtol=1e-12)


@pytest.mark.parametrize("kind", list(SHAPES))
def test_gradient_check_training_mode(backend, rng, kind):
    layer, x_host = make(backend, rng, kind)
    x = Tensor(backend.asarray(x_host), requires_grad=True)
    diff = gradient_check(lambda: layer(x), [x, layer.gamma, layer.beta])
    assert diff < 1e-7, diff


@pytest.mark.parametrize("kind", list(SHAPES))
def test_gradient_check_non_contiguous_input(backend, rng, kind):
    layer, x_host = make(backend, rng, kind)
    x = Tensor(backend.asarray(np.ascontiguousarray(np.swapaxes(x_host, 0, -1))),
               requires_grad=True)
    assert not x.data.swapaxes(0, -1).flags.c_contiguous

    def fn():
        from dlx.functional import transpose
        axes = list(range(x.ndim))
        axes[0], axes[-1] = axes[-1], axes[0]
        return layer(transpose(x, axes))

    assert directional_check(fn, [x, layer.gamma, layer.beta]) < 1e-7


@pytest.mark.parametrize("kind", list(SHAPES))
def test_eval_mode_uses_running_statistics(backend, rng, kind):
    layer, x_host = make(backend, rng, kind)
    for _ in range(3):
        layer(Tensor(backend.asarray(rng.normal(1.0, 2.0, x_host.shape))))
    rm, rv = backend.to_host(layer.running_mean).copy(), backend.to_host(layer.running_var).copy()
    layer.eval()
    y = layer(Tensor(backend.asarray(x_host)))
    want, _, _ = reference(x_host, backend.to_host(layer.gamma.data),
                           backend.to_host(layer.beta.data), layer.eps, rm, rv)
    np.testing.assert_allclose(y.to_numpy(), want, rtol=1e-10, atol=1e-12)
    # deterministic per example: one example alone gives the same output as in the batch
    np.testing.assert_allclose(layer(Tensor(backend.asarray(x_host[:1]))).to_numpy(), want[:1],
                               rtol=1e-12)
    np.testing.assert_array_equal(backend.to_host(layer.running_mean), rm)  # not updated
    x = Tensor(backend.asarray(x_host), requires_grad=True)
    assert directional_check(lambda: layer(x), [x, layer.gamma, layer.beta]) < 1e-7


def test_running_stats_are_buffers_in_the_state_dict(backend, rng):
    model = nn.Sequential(nn.Dense(4, 3, bias=False), nn.BatchNorm(3), nn.Activation("relu"))
    model(Tensor(backend.asarray(rng.normal(size=(5, 4)), dtype=backend.default_dtype)))
    state = model.state_dict()
    assert {"layers.1.gamma", "layers.1.beta", "layers.1.running_mean",
            "layers.1.running_var"} <= set(state)
    other = nn.Sequential(nn.Dense(4, 3, bias=False), nn.BatchNorm(3), nn.Activation("relu"))
    other.load_state_dict({k: v.copy() for k, v in state.items()})
    np.testing.assert_array_equal(backend.to_host(other.layers[1].running_var),
                                  state["layers.1.running_var"])


def test_float32_stays_float32(backend, rng):
    layer = nn.BatchNorm2D(2)
    y = layer(Tensor(backend.asarray(rng.normal(size=(2, 2, 3, 3)), dtype=backend.xp.float32)))
    assert y.dtype == backend.xp.float32 and layer.running_var.dtype == backend.xp.float32


def test_shape_errors_name_the_layer(backend):
    with pytest.raises(ShapeError, match=r"BatchNorm2D\(3\).*\(m, C, H, W\)"):
        nn.BatchNorm2D(3)(Tensor(backend.xp.zeros((2, 3), dtype=backend.default_dtype)))
    with pytest.raises(ShapeError, match=r"BatchNorm\(3\)"):
        nn.BatchNorm(3)(Tensor(backend.xp.zeros((2, 4), dtype=backend.default_dtype)))
    with pytest.raises(ShapeError, match="running"):
        F.batch_norm(backend.xp.zeros((2, 3)), nn.BatchNorm(3).gamma, nn.BatchNorm(3).beta,
                     training=False)
