"""Inverted dropout, the L2 penalty and initialisation defaults by activation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dlx.backends as B
from dlx import functional as F
from dlx import init, nn
from dlx.core import Tensor
from dlx.errors import ConfigError, ShapeError
from dlx.gradcheck import gradient_check

# -- dropout ------------------------------------------------------------------------------


def test_dropout_preserves_the_mean_activation(backend):
    x = backend.xp.ones(100_000, dtype=backend.default_dtype)
    y = F.dropout(x, keep_prob=0.8).to_numpy()
    assert abs(y.mean() - 1.0) < 0.01
    kept = y != 0
    assert abs(kept.mean() - 0.8) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.8, rtol=1e-6)


def test_dropout_masks_come_from_the_seeded_generator(backend):
    x = backend.xp.ones((50, 20), dtype=backend.default_dtype)
    backend.seed(7)
    a = F.dropout(x, 0.5).to_numpy()
    b = F.dropout(x, 0.5).to_numpy()
    backend.seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).to_numpy(), a)
    assert not np.array_equal(a, b)


def test_eval_mode_is_deterministic_identity(backend, rng):
    layer = nn.Dropout(0.5).eval()
    x_host = rng.normal(size=(8, 5)).astype(np.float32)
    outs = [layer(Tensor(backend.asarray(x_host))).to_numpy() for _ in range(3)]
    for out in outs:
        np.testing.assert_array_equal(out, x_host)


def injected_case(rng):
    x = rng.normal(size=(6, 7))
    mask = (rng.random((6, 7)) < 0.8).astype(np.float64)
    gy = rng.normal(size=(6, 7))
    return x, mask, gy


def test_injected_mask_matches_reference_and_every_backend(backend, rng):
    x_host, mask, gy = injected_case(rng)
    layer = nn.Dropout(0.8)
    layer.set_mask(mask)
    results = {}
    for name in ("numpy", backend.name):
        with B.use(name) as be:
            x = Tensor(be.asarray(x_host, dtype=be.xp.float32), requires_grad=True)
            y = layer(x)
            y.backward(be.asarray(gy, dtype=be.xp.float32))
            results[name] = (y.to_numpy(), be.to_host(x.grad))
    np.testing.assert_allclose(results["numpy"][0], x_host * mask / 0.8, rtol=1e-6)
    np.testing.assert_allclose(results["numpy"][1], gy * mask / 0.8, rtol=1e-6)
    for got, want in zip(results[backend.name], results["numpy"]):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_dropout_gradient_check(backend, rng):
    x_host, mask, _ = injected_case(rng)
    x = Tensor(backend.asarray(x_host), requires_grad=True)
    assert gradient_check(lambda: F.dropout(x, 0.8, mask=mask), [x]) < 1e-7


def test_dropout_backward_uses_the_forward_mask(backend):
    x = Tensor(backend.xp.ones((40, 30), dtype=backend.default_dtype), requires_grad=True)
    y = F.dropout(x, 0.7)
    y.backward(backend.xp.ones((40, 30), dtype=backend.default_dtype))
    np.testing.assert_array_equal(backend.to_host(x.grad), y.to_numpy())


def test_dropout_errors(backend):
    with pytest.raises(ConfigError, match="keep_prob"):
        nn.Dropout(0.0)
    with pytest.raises(ConfigError, match="keep_prob"):
        F.dropout(backend.xp.ones(3), 1.5)
    with pytest.raises(ShapeError, match="mask"):
        F.dropout(backend.xp.ones((2, 3)), 0.5, mask=np.ones((3, 2)))


# -- L2 -----------------------------------------------------------------------------------


def float64_model(backend, l2_last=None):
    backend.seed(0)
    return nn.Sequential(nn.Dense(4, 5, "tanh"), nn.BatchNorm(5), nn.Dense(5, 3, l2=l2_last),
                         dtype="float64")


def test_l2_penalty_value_excludes_biases_and_batchnorm(backend):
    model = float64_model(backend)
    W1, W2 = (backend.to_host(layer.W.data) for layer in (model[0], model[2]))
    got = nn.l2_penalty(model, lambd=0.7, m=10).item()
    assert got == pytest.approx(0.7 / 20 * ((W1 ** 2).sum() + (W2 ** 2).sum()), rel=1e-12)
    b1 = backend.to_host(model[0].b.data)
    b1[:] = 1.0
    model[0].b.data = backend.asarray(b1)
    with_bias = nn.l2_penalty(model, 0.7, 10, include_bias=True).item()
    assert with_bias == pytest.approx(got + 0.7 / 20 * 5, rel=1e-12)


def test_l2_per_layer_override(backend):
    model = float64_model(backend, l2_last=0.0)
    W1 = backend.to_host(model[0].W.data)
    assert nn.l2_penalty(model, 0.7, 10).item() == pytest.approx(0.7 / 20 * (W1 ** 2).sum())
    model = float64_model(backend, l2_last=0.3)
    W2 = backend.to_host(model[2].W.data)
    assert nn.l2_penalty(model, 0.0, 10).item() == pytest.approx(0.3 / 20 * (W2 ** 2).sum())
    assert nn.l2_penalty(float64_model(backend), 0.0, 10).item() == 0.0


def test_l2_adds_lambda_over_m_times_w_to_the_gradient(backend, rng):
    model = float64_model(backend)
    x, y = backend.asarray(rng.normal(size=(10, 4))), backend.asarray(rng.integers(0, 3, 10))
    model.zero_grad()
    F.softmax_cross_entropy(model(x), y).backward()
    plain = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    (F.softmax_cross_entropy(model(x), y) + nn.l2_penalty(model, 0.7, 10)).backward()
    for (name, p), g in zip(model.named_parameters(), plain):
        decay = 0.7 / 10 * p.data if name.endswith(".W") else 0 * p.data
        np.testing.assert_allclose(backend.to_host(p.grad), backend.to_host(g + decay),
                                   rtol=1e-10, atol=1e-14, err_msg=name)


def test_l2_gradient_check(backend, rng):
    model = float64_model(backend, l2_last=0.2)
    x, y = backend.asarray(rng.normal(size=(6, 4))), backend.asarray(rng.integers(0, 3, 6))
    diff = gradient_check(lambda: F.softmax_cross_entropy(model(x), y)
                          + nn.l2_penalty(model, 0.5, 6), model.parameters())
    assert diff < 1e-7, diff


def test_l2_errors(backend):
    model = float64_model(backend)
    with pytest.raises(ConfigError, match="lambda"):
        nn.l2_penalty(model, -1.0, 10)
    with pytest.raises(ConfigError, match="m must"):
        nn.l2_penalty(model, 1.0, 0)


# -- initialisation defaults by activation --------------------------------------------------


@pytest.mark.parametrize("activation, gain", [("relu", 2.0), ("leaky_relu", 2.0),
                                              ("tanh", 1.0), ("sigmoid", 1.0), (None, 1.0)])
def test_default_init_by_activation(backend, activation, gain):
    backend.seed(0)
    W = backend.to_host(nn.Dense(400, 300, activation).W.data)
    assert W.std() == pytest.approx(math.sqrt(gain / 400), rel=0.02)
    assert abs(W.mean()) < 0.01 * math.sqrt(gain / 400) * 10


def test_default_init_is_overridable(backend):
    backend.seed(0)
    W = backend.to_host(nn.Dense(400, 300, "relu", init_method="xavier").W.data)
    assert W.std() == pytest.approx(math.sqrt(1 / 400), rel=0.02)
    assert init.DEFAULT_FOR_ACTIVATION["relu"] == "he"
    assert init.DEFAULT_FOR_ACTIVATION["tanh"] == "xavier"

