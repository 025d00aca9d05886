"""Gradient clipping by global norm and by value; clipping prevents an RNN's blow-up."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dlx
from dlx import nn
from dlx import functional as F
from dlx.optim import GD, Adam, clip_grad_norm, clip_grad_value, with_clipping


def _params(backend, grads):
    ps = [dlx.Parameter(backend.asarray(np.zeros_like(g))) for g in grads]
    for p, g in zip(ps, grads):
        p.grad = backend.asarray(g)
    return ps


def test_clip_grad_norm_scales_all_gradients_together(backend):
    g1, g2 = np.array([3.0, 0.0]), np.array([[0.0], [4.0]])
    ps = _params(backend, [g1, g2])
    aliased = ps[0].grad
    norm = clip_grad_norm(ps, 1.0)
    assert float(backend.to_host(norm)) == pytest.approx(5.0)
    np.testing.assert_allclose(backend.to_host(ps[0].grad), g1 / 5, rtol=1e-6)
    np.testing.assert_allclose(backend.to_host(ps[1].grad), g2 / 5, rtol=1e-6)
    np.testing.assert_array_equal(backend.to_host(aliased), g1)  # not written in place
    ps = _params(backend, [g1, g2])
    clip_grad_norm(ps, 10.0)  # below the threshold: unchanged
    np.testing.assert_allclose(backend.to_host(ps[1].grad), g2)


def test_clip_grad_value(backend):
    ps = _params(backend, [np.array([-3.0, 0.5, 2.0])])
    clip_grad_value(ps, 1.0)
    np.testing.assert_array_equal(backend.to_host(ps[0].grad), [-1.0, 0.5, 1.0])
    with pytest.raises(dlx.ConfigError, match="clip_grad_value: the threshold must be > 0"):
        clip_grad_value(ps, 0)


def test_optimiser_option_clips_every_step(backend):
    p = _params(backend, [np.array([30.0, 40.0])])[0]
    opt = with_clipping(GD([p], lr=1.0), max_norm=5.0)
    opt.step()
    np.testing.assert_allclose(backend.to_host(p.data), [-3.0, -4.0], rtol=1e-6)
    q = _params(backend, [np.array([30.0, -0.5])])[0]
    opt = with_clipping(Adam([q], lr=0.1), value=1.0)  # the flat in-place path
    opt.step()
    np.testing.assert_allclose(backend.to_host(q.grad), [1.0, -0.5])


def _train_exploding_rnn(backend, clip):
    """A ReLU RNN with an identity recurrent matrix, T = 40, targets far above its outputs:
    the first unclipped GD step pushes W_a past 1 and the next forward pass explodes."""
    rng = np.random.default_rng(0)
    layer = nn.RNN(2, 6, activation="relu", return_sequences=False, dtype=np.float64)
    layer.cells[0].W_a.data = backend.asarray(np.eye(6))
    x = dlx.Tensor(backend.asarray(np.abs(rng.standard_normal((8, 40, 2)))))
    y = dlx.Tensor(backend.asarray(20 + rng.standard_normal((8, 6))))
    opt = GD(layer.parameters(), lr=1e-3)
    if clip:
        with_clipping(opt, max_norm=1.0)
    losses = []
    with np.errstate(all="ignore"):
        for _ in range(15):
            loss = F.mean_squared_error(layer(x).outputs, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def test_clipping_prevents_a_blow_up(backend):
    unclipped = _train_exploding_rnn(backend, clip=False)
    clipped = _train_exploding_rnn(backend, clip=True)
    assert not all(math.isfinite(v) and v < 1e10 for v in unclipped), unclipped
    assert all(math.isfinite(v) and v <= clipped[0] for v in clipped), clipped
    assert clipped[-1] < 0.9 * clipped[0]
