"""Every elementary op: forward vs a NumPy float64 reference, inputs untouched, numerical
gradient check, and a non-contiguous variant — on every available backend."""

import numpy as np
import pytest

import dlx.functional as F
from opcheck import OpCase, run_op_checks


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _away_from(value, margin):
    """Input builder avoiding a kink at ``value`` (for relu, clip, maximum, leaky relu)."""
    def make(shape):
        def build(rng):
            a = rng.uniform(-2, 2, size=shape)
            return [np.where(np.abs(a - value) < margin, a + 2 * margin * np.sign(a - value + 1e-12), a)]
        return build
    return make


def _max_pair(rng):
    a = rng.uniform(-2, 2, size=(3, 4))
    b = a + rng.choice([-1, 1], size=(3, 4)) * rng.uniform(0.1, 1, size=(3, 4))
    return [a, b]


CASES = [
    OpCase("add", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (3, 4)]),
    OpCase("add-broadcast", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)]),
    OpCase("sub-broadcast", lambda a, b: a - b, lambda a, b: a - b, [(2, 3, 4), (3, 1)]),
    OpCase("mul-broadcast", lambda a, b: a * b, lambda a, b: a * b, [(3, 4), (1, 4)]),
    OpCase("div", lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (3, 4)], low=0.5, high=2.0),
    OpCase("neg", lambda a: -a, lambda a: -a, [(3, 4)]),
    OpCase("pow", lambda a: a ** 3, lambda a: a ** 3, [(3, 4)]),
    OpCase("pow-fractional", lambda a: a ** 0.5, lambda a: a ** 0.5, [(3, 4)], low=0.5, high=2),
    OpCase("scalar-arith", lambda a: 2.0 * a - 1.0 / (a + 3.0), lambda a: 2 * a - 1 / (a + 3),
           [(3, 4)]),
    OpCase("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)]),
    OpCase("matmul-vector", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)]),
    OpCase("matmul-batched", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    OpCase("sum-all", lambda a: a.sum(), lambda a: a.sum(), [(3, 4)]),
    OpCase("sum-axis", lambda a: a.sum(axis=1), lambda a: a.sum(axis=1), [(2, 3, 4)]),
    OpCase("sum-keepdims", lambda a: F.sum(a, (0, 2), True), lambda a: a.sum((0, 2), keepdims=True),
           [(2, 3, 4)]),
    OpCase("mean-axis", lambda a: a.mean(axis=0), lambda a: a.mean(axis=0), [(3, 4)]),
    OpCase("reshape", lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [(3, 4)]),
    OpCase("transpose", lambda a: a.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1),
           [(2, 3, 4)]),
    OpCase("T", lambda a: a.T, lambda a: a.T, [(3, 4)]),
    OpCase("getitem-slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 4)]),
    OpCase("getitem-fancy", lambda a: a[np.array([0, 2, 0])], lambda a: a[np.array([0, 2, 0])],
           [(3, 4)]),
    OpCase("broadcast_to", lambda a: F.broadcast_to(a, (3, 4)),
           lambda a: np.broadcast_to(a, (3, 4)), [(1, 4)]),
    OpCase("exp", F.exp, np.exp, [(3, 4)]),
    OpCase("log", F.log, np.log, [(3, 4)], low=0.2, high=3),
    OpCase("clip", lambda a: F.clip(a, -1.0, 1.0), lambda a: np.clip(a, -1, 1), [(3, 4)],
           make=_away_from(1.0, 0.05)((3, 4))),
    OpCase("maximum", F.maximum, np.maximum, [(3, 4), (3, 4)], make=_max_pair),
    OpCase("sigmoid", F.sigmoid, lambda z: 1 / (1 + np.exp(-z)), [(3, 4)], low=-6, high=6),
    OpCase("tanh", F.tanh, np.tanh, [(3, 4)]),
    OpCase("relu", F.relu, lambda z: np.maximum(z, 0), [(3, 4)], make=_away_from(0.0, 0.05)((3, 4))),
    OpCase("leaky_relu", F.leaky_relu, lambda z: np.where(z > 0, z, 0.01 * z), [(3, 4)],
           make=_away_from(0.0, 0.05)((3, 4))),
    OpCase("softmax", F.softmax, _softmax, [(3, 5)]),
    OpCase("log_softmax", F.log_softmax, lambda z: np.log(_softmax(z)), [(3, 5)]),
    OpCase("linear", F.linear, lambda x, w, b: x @ w.T + b, [(4, 3), (5, 3), (5,)]),
    OpCase("linear-nobias", lambda x, w: F.linear(x, w), lambda x, w: x @ w.T, [(4, 3), (5, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, backend, rng):
    run_op_checks(case, backend, rng)
