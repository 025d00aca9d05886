"""The user-facing gradient checks pass on correct ops and catch a wrong backward."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
from dlx.core import Function
from dlx.errors import DtypeError
from dlx.gradcheck import directional_check, gradient_check


class WrongSquare(Function):
    """y = x^2 with a deliberately wrong backward (2x + 0.01)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * (2 * self.x + 0.01)


def _x(rng):
    return dlx.Tensor(rng.normal(size=(3, 2)), requires_grad=True)


def test_both_checks_pass_on_a_correct_op(rng):
    x = _x(rng)
    assert gradient_check(lambda: F.tanh(x * x).sum(), [x]) < 1e-7
    assert directional_check(lambda: F.tanh(x * x).sum(), [x]) < 1e-7


def test_both_checks_catch_a_wrong_backward(rng):
    x = _x(rng)
    assert gradient_check(lambda: WrongSquare()(x).sum(), [x]) > 1e-4
    assert directional_check(lambda: WrongSquare()(x).sum(), [x]) > 1e-4


def test_checks_work_on_whole_models(rng):
    import dlx.nn as nn

    model = nn.Sequential(nn.Dense(3, 4, "tanh"), nn.Dense(4, 2))
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    X = rng.normal(size=(5, 3))
    y = np.array([0, 1, 1, 0, 1])
    assert gradient_check(lambda: F.softmax_cross_entropy(model(X), y), model.parameters()) < 1e-7


def test_gradient_check_demands_float64():
    x = dlx.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(DtypeError, match="float64"):
        gradient_check(lambda: (x * x).sum(), [x])
