"""Refused inputs of the inspection tools (retain_grad, record_caches, gradient checks,
F.pad): ``CASES = {id: callable(tmp_path)}``, each performing one bad action that must raise.

The ids, exception classes and messages are listed in docs/errors.md (section "Inspection tools").
"""

import numpy as np

import dlx
import dlx.functional as F
import dlx.nn as nn
from dlx.gradcheck import directional_check, gradient_check


def _x(shape=(3,), dtype=np.float64, name=None):
    return dlx.Tensor(np.random.default_rng(0).normal(size=shape).astype(dtype),
                      requires_grad=True, name=name)


def _square_cost(x):
    return lambda: (x * x).sum()


def _gradcheck(**kwargs):
    x = _x()
    return gradient_check(_square_cost(x), [x], **kwargs)


def _unused(check):
    x, u = _x(), _x((2,), name="u")
    return check(_square_cost(x), [x, u])


def _only_unused(check):
    x, u = _x(), _x((2,), name="u")
    return check(_square_cost(x), [u], allow_unused=True)


def _user_grads(grads, fn=None, tensors=None):
    params = {"w": np.array([1.0, 2.0])}
    fn = fn or (lambda: float((params["w"] ** 2).sum()))
    return gradient_check(fn, tensors or params, grads=grads)


def _noncontiguous_array():
    w = np.ones((2, 4))[:, ::2]
    return gradient_check(lambda: float((w ** 2).sum()), {"w": w}, grads={"w": 2 * w})


def _dead_relu():
    x = dlx.Tensor(-np.ones(3), requires_grad=True)
    return directional_check(lambda: F.relu(x).sum(), [x])


CASES = {
    "retain_grad_without_grad": lambda tmp_path: dlx.Tensor(np.ones(3)).retain_grad(),
    "record_caches_no_layers":
        lambda tmp_path: nn.record_caches(nn.Sequential(nn.ReLU())).__enter__(),
    "gradient_check_eps_zero": lambda tmp_path: _gradcheck(eps=0),
    "gradient_check_eps_negative": lambda tmp_path: _gradcheck(eps=-1e-7),
    "gradient_check_eps_nan": lambda tmp_path: _gradcheck(eps=float("nan")),
    "directional_check_eps_zero":
        lambda tmp_path: directional_check(_square_cost(_x()), [_x()], eps=0),
    "gradient_check_float32": lambda tmp_path: (lambda x: gradient_check(
        _square_cost(x), [x]))(_x(dtype=np.float32)),
    "gradient_check_not_an_array":
        lambda tmp_path: gradient_check(lambda: 0.0, {"w": [1.0, 2.0]}, grads={"w": [0, 0]}),
    "gradient_check_unused_tensor": lambda tmp_path: _unused(gradient_check),
    "directional_check_unused_tensor": lambda tmp_path: _unused(directional_check),
    "gradient_check_nothing_used": lambda tmp_path: _only_unused(gradient_check),
    "directional_check_nothing_used": lambda tmp_path: _only_unused(directional_check),
    "directional_check_zero_gradient": lambda tmp_path: _dead_relu(),
    "gradient_check_fn_not_a_tensor":
        lambda tmp_path: (lambda x: gradient_check(lambda: 1.0, [x]))(_x()),
    "gradient_check_array_without_grads":
        lambda tmp_path: gradient_check(lambda: 0.0, {"w": np.ones(2)}),
    "gradient_check_grads_missing_name": lambda tmp_path: _user_grads({"v": np.ones(2)}),
    "gradient_check_grads_wrong_count": lambda tmp_path: _user_grads([np.ones(2), np.ones(2)]),
    "gradient_check_grads_wrong_shape": lambda tmp_path: _user_grads({"w": np.ones(3)}),
    "gradient_check_grads_non_scalar_cost":
        lambda tmp_path: _user_grads({"w": np.ones(2)}, fn=lambda: np.ones(2)),
    "gradient_check_non_contiguous_array": lambda tmp_path: _noncontiguous_array(),
    "pad_negative_width": lambda tmp_path: F.pad(np.ones((2, 3)), -1),
    "pad_float_width": lambda tmp_path: F.pad(np.ones((2, 3)), 1.5),
    "pad_width_per_axis_count": lambda tmp_path: F.pad(np.ones((2, 3)), [1, 2, 3]),
    "pad_axis_out_of_range": lambda tmp_path: F.pad(np.ones((2, 3)), 1, axes=(3,)),
    "pad_repeated_axis": lambda tmp_path: F.pad(np.ones((2, 3)), 1, axes=(1, -1)),
    "pad_value_not_a_number": lambda tmp_path: F.pad(np.ones((2, 3)), 1, value="zero"),
}
