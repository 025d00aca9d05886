"""Additive attention: the formula, masking, and gradient checks on every backend."""

import numpy as np
import pytest

import dlx
import dlx.nn as nn
from dlx.errors import ConfigError, ShapeError
from dlx.gradcheck import gradient_check

pytestmark = pytest.mark.usefixtures("float64_default")  # exact formulas, gradient checks


def setup(backend, rng, m=2, T=4, n_s=3, n_a=5, h=4):
    att = nn.AdditiveAttention(n_s, n_a, h)
    for p in att.parameters():
        p.data = backend.asarray(rng.normal(size=p.shape))
    s = dlx.Tensor(backend.asarray(rng.normal(size=(m, n_s))), requires_grad=True)
    a = dlx.Tensor(backend.asarray(rng.normal(size=(m, T, n_a))), requires_grad=True)
    return att, s, a


def test_matches_the_formula_on_the_concatenation(backend, rng):
    att, s, a = setup(backend, rng)
    mask = nn.length_mask(np.array([4, 2]), 4)
    context, alpha = att(s, a, mask)
    W = np.concatenate([att.W_s.to_numpy(), att.W_a.to_numpy()], axis=1)  # W [s, a]
    S, A = s.to_numpy(), a.to_numpy()
    for i, length in enumerate([4, 2]):
        e = np.array([att.v.to_numpy() @ np.tanh(W @ np.r_[S[i], A[i, t]] + att.b.to_numpy())
                      for t in range(length)])
        expected = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        np.testing.assert_allclose(alpha.to_numpy()[i, :length], expected, rtol=1e-10)
        assert not np.any(alpha.to_numpy()[i, length:])  # padding gets exactly 0
        np.testing.assert_allclose(context.to_numpy()[i], expected @ A[i, :length], rtol=1e-10)


@pytest.mark.parametrize("lengths", [None, [4, 2]])
def test_gradient_check(backend, rng, lengths):
    att, s, a = setup(backend, rng)
    mask = None if lengths is None else nn.length_mask(np.array(lengths), 4)
    diff = gradient_check(lambda: att(s, a, mask)[0], att.parameters() + [s, a])
    assert diff < 1e-7
    att(s, a, mask)[0].sum().backward()
    if lengths is not None:  # padded encoder positions receive no gradient
        assert not np.any(backend.to_host(a.grad)[1, 2:])


def test_bad_shapes():
    att = nn.AdditiveAttention(3, 5)
    a = dlx.Tensor(np.zeros((2, 4, 5)))
    with pytest.raises(ShapeError, match=r"s<t-1>"):
        att(dlx.Tensor(np.zeros((2, 4))), a)
    with pytest.raises(ShapeError, match="encoder activations"):
        att(dlx.Tensor(np.zeros((2, 3))), dlx.Tensor(np.zeros((2, 4, 6))))
    with pytest.raises(ShapeError, match="mask"):
        att(dlx.Tensor(np.zeros((2, 3))), a, mask=np.ones((2, 3), bool))
    with pytest.raises(ConfigError, match="positive"):
        nn.AdditiveAttention(0, 5)
