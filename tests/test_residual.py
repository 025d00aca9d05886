"""Residual connections: identity and projection shortcuts, the branching graph's gradients."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
import dlx.nn as nn
from dlx.gradcheck import gradient_check


@pytest.fixture
def float64(backend):
    with dlx.default_dtype("float64"):
        yield backend


def test_identity_shortcut_adds_the_input(backend, rng):
    main = nn.Conv2D(3, 3, 3, padding=1)
    block = nn.Residual(main, activation=None)
    x = backend.asarray(rng.normal(size=(2, 3, 5, 5)).astype(np.float32))
    expected = backend.to_host(main(x).data) + backend.to_host(x)
    np.testing.assert_allclose(backend.to_host(block(x).data), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cin,cout,stride,shape_out,projection", [
    (4, 4, 1, (2, 4, 6, 6), False), (4, 8, 1, (2, 8, 6, 6), True), (4, 8, 2, (2, 8, 3, 3), True)])
def test_residual_block_shortcut_kind(backend, cin, cout, stride, shape_out, projection):
    block = nn.ResidualBlock(cin, cout, stride)
    assert (block.shortcut is not None) == projection
    if projection:
        assert block.shortcut[0].kernel_size == (1, 1) and block.shortcut[0].stride == (stride,) * 2
    assert block(np.ones((2, cin, 6, 6), np.float32)).shape == shape_out


@pytest.mark.parametrize("cin,cout,stride,batch_norm", [(2, 2, 1, False), (2, 3, 2, False),
                                                        (2, 3, 2, True)])
def test_residual_block_gradient_check(float64, rng, cin, cout, stride, batch_norm):
    block = nn.ResidualBlock(cin, cout, stride, batch_norm=batch_norm)
    for p in block.parameters():  # move away from exact zeros (biases, beta) and relu kinks
        p.data = p.data + float64.asarray(rng.uniform(0.05, 0.1, p.shape))
    x = dlx.Tensor(float64.asarray(rng.normal(size=(2, cin, 5, 5))), requires_grad=True)
    assert gradient_check(lambda: block(x), block.parameters() + [x]) < 1e-7


def test_gradient_of_a_shared_input_sums_both_branches(backend, rng):
    x = dlx.Tensor(backend.asarray(rng.normal(size=(1, 2, 3, 3)).astype(np.float32)),
                   requires_grad=True)
    block = nn.Residual(nn.Flatten(), shortcut=nn.Flatten(), activation=None)
    block(x).sum().backward()
    np.testing.assert_allclose(backend.to_host(x.grad), 2.0)
