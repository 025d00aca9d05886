"""Max pooling propagates NaN wherever it sits in its window (as NumPy and PyTorch do), on
every backend; the gradient goes to the window's first NaN."""

from __future__ import annotations

import numpy as np
import pytest

import dlx
from dlx import functional as F


@pytest.mark.parametrize("position", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_nan_anywhere_in_the_window_is_the_maximum(backend, position):
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    x[0, 0, position[0], position[1]] = np.nan  # inside the first 2x2 window
    y, argmax = backend.maxpool_fwd(backend.asarray(x), (2, 2), (2, 2), (0, 0))
    y, argmax = backend.to_host(y), backend.to_host(argmax)
    assert np.isnan(y[0, 0, 0, 0])
    assert argmax[0, 0, 0, 0] == position[0] * 2 + position[1]
    np.testing.assert_array_equal(y[0, 0].ravel()[1:], [7.0, 13.0, 15.0])  # other windows


def test_first_nan_of_a_window_gets_the_gradient_and_overlaps_add(backend):
    x = np.zeros((1, 1, 3, 4))
    x[0, 0, 1, 2] = x[0, 0, 2, 1] = np.nan  # both in the overlapping 3x3 windows
    xt = dlx.Tensor(backend.asarray(x), requires_grad=True)
    y = F.max_pool2d(xt, 3, 1, 0)
    assert np.isnan(backend.to_host(y.data)).all()
    y.backward(backend.asarray(np.ones((1, 1, 1, 2))))
    grad = backend.to_host(xt.grad)
    expected = np.zeros_like(x)
    expected[0, 0, 1, 2] = 2.0  # row-major first NaN of both windows
    np.testing.assert_array_equal(grad, expected)


@pytest.mark.torch
def test_nan_pooling_matches_torch(backend, rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(2, 3, 7, 6))
    x[rng.random(x.shape) < 0.1] = np.nan
    y, _ = backend.maxpool_fwd(backend.asarray(x), (3, 2), (2, 2), (1, 1))
    ref = torch.nn.functional.max_pool2d(torch.from_numpy(x), (3, 2), (2, 2), (1, 1))
    np.testing.assert_array_equal(backend.to_host(y), ref.numpy())
