"""The course's inspection tools: retain_grad (dZ, dA), record_caches, gradient_check of the
user's own gradients, and F.pad (zero_pad) -- on every backend."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
import dlx.nn as nn
from dlx.errors import ConfigError, ShapeError
from dlx.gradcheck import directional_check, gradient_check, gradient_check_report
from opcheck import OpCase, run_op_checks


@pytest.fixture
def float64(backend):
    previous, backend.default_dtype = backend.default_dtype, backend.xp.float64
    yield backend
    backend.default_dtype = previous


# -- retain_grad ------------------------------------------------------------------------------
def test_retain_grad_keeps_intermediate_gradients(backend, rng):
    x = dlx.Tensor(backend.asarray(rng.normal(size=(3, 4))), requires_grad=True)
    z = (x * 2.0).retain_grad()
    a = F.tanh(z).retain_grad()
    (a * a).sum().backward()
    a_host = backend.to_host(a.data)
    np.testing.assert_allclose(backend.to_host(a.grad), 2 * a_host, rtol=1e-12)
    np.testing.assert_allclose(backend.to_host(z.grad), 2 * a_host * (1 - a_host ** 2), rtol=1e-12)
    np.testing.assert_allclose(backend.to_host(x.grad), 2 * backend.to_host(z.grad), rtol=1e-12)


def test_retain_grad_on_the_tensor_backward_starts_from(backend):
    x = dlx.Tensor(backend.asarray(np.array([1.0, 2.0])), requires_grad=True)
    y = (x * x).sum().retain_grad()
    y.backward()
    assert float(backend.to_host(y.grad)) == 1.0


def test_without_retain_grad_intermediates_keep_no_gradient(backend):
    x = dlx.Tensor(backend.asarray(np.array([1.0, 2.0])), requires_grad=True)
    z = x * 3.0
    z.sum().backward()
    assert z.grad is None and x.grad is not None


def test_retain_grad_accumulates_over_two_backward_passes(backend):
    x = dlx.Tensor(backend.asarray(np.array([1.0, 2.0])), requires_grad=True)
    z = (x * 3.0).retain_grad()
    out = z.sum()
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_array_equal(backend.to_host(z.grad), [2.0, 2.0])


def test_retain_grad_refuses_a_tensor_without_gradient():
    with pytest.raises(ConfigError, match="does not require a gradient"):
        dlx.Tensor(np.ones(3)).retain_grad()


def test_record_caches_gives_the_course_dz_and_da(float64, rng):
    """dW = dZ.T @ A_prev and db = sum(dZ) (batch-first; the mean's 1/m is inside dZ), and
    dZ[L] = (softmax(Z) - Y) / m for softmax cross-entropy."""
    model = nn.Sequential(nn.Dense(3, 5, "relu"), nn.Dense(5, 4))
    X = float64.asarray(rng.normal(size=(6, 3)))
    y = np.array([0, 1, 2, 3, 1, 0])
    with nn.record_caches(model) as caches:
        F.softmax_cross_entropy(model(X), float64.asarray(y)).backward()
    assert list(caches) == ["layers.0", "layers.1"]
    host = float64.to_host
    first, last = caches["layers.0"], caches["layers.1"]
    p = np.exp(host(last.Z.data))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(host(last.dZ), (p - np.eye(4)[y]) / 6, rtol=1e-10)
    np.testing.assert_allclose(host(model[1].W.grad), host(last.dZ).T @ host(first.A.data),
                               rtol=1e-10)
    np.testing.assert_allclose(host(model[0].b.grad), host(first.dZ).sum(0), rtol=1e-10)
    np.testing.assert_allclose(host(first.dZ), host(first.dA) * (host(first.Z.data) > 0),
                               rtol=1e-12)
    assert "forward" not in vars(model[0])  # the layers are themselves again


def test_record_caches_records_conv_layers(backend, rng):
    model = nn.Sequential(nn.Conv2D(1, 2, 3, padding="same", activation="relu"), nn.Flatten())
    with nn.record_caches(model) as caches:
        model(backend.asarray(rng.normal(size=(2, 1, 4, 4)), dtype="float32")).sum().backward()
    assert caches["layers.0"].dZ.shape == (2, 2, 4, 4)


def test_record_caches_refuses_a_model_without_such_layers():
    with pytest.raises(ConfigError, match="record_caches"):
        with nn.record_caches(nn.Sequential(nn.ReLU())):
            pass


# -- gradient_check of the user's own gradients --------------------------------------------
def _two_layer(backend, rng):
    """The course's assignment set-up: numpy parameters, a hand-written forward and backward."""
    params = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=(4,)),
              "W2": rng.normal(size=(1, 4)), "b2": rng.normal(size=(1,))}
    params = {k: backend.asarray(v) for k, v in params.items()}
    X = backend.asarray(rng.normal(size=(5, 3)))
    Y = backend.asarray((rng.uniform(size=(5, 1)) > 0.5).astype(np.float64))
    xp = backend.xp

    def forward():
        Z1 = X @ params["W1"].T + params["b1"]
        A1 = xp.tanh(Z1)
        A2 = 1 / (1 + xp.exp(-(A1 @ params["W2"].T + params["b2"])))
        cost = -xp.mean(Y * xp.log(A2) + (1 - Y) * xp.log(1 - A2))
        return cost, (A1, A2)

    def backward(mistake=0.0):
        _, (A1, A2) = forward()
        m = X.shape[0]
        dZ2 = A2 - Y
        dZ1 = dZ2 @ params["W2"] * (1 - A1 ** 2)
        return {"W2": dZ2.T @ A1 / m, "b2": dZ2.sum(0) / m,
                "W1": dZ1.T @ X / m * (1 + mistake), "b1": dZ1.sum(0) / m}

    return params, (lambda: forward()[0]), backward


def test_course_style_check_of_hand_written_backprop(backend, rng):
    params, cost, backward = _two_layer(backend, rng)
    report = gradient_check_report(cost, params, grads=backward)
    assert report.difference < 1e-7 and report.passed
    assert set(report.per_tensor) == set(params) and report.unused == []


def test_course_style_check_catches_a_mistake_and_names_the_tensor(backend, rng):
    params, cost, backward = _two_layer(backend, rng)
    report = gradient_check_report(cost, params, grads=lambda: backward(mistake=0.05))
    assert report.difference > 1e-4 and not report.passed
    assert max(report.per_tensor, key=report.per_tensor.get) == "W1"
    assert report.per_tensor["b1"] < 1e-7


def test_user_grads_for_dlx_tensors_as_a_list(backend, rng):
    x = dlx.Tensor(backend.asarray(rng.normal(size=(3, 2))), requires_grad=True)
    right = 3 * x.data ** 2
    assert gradient_check(lambda: (x ** 3).sum(), [x], grads=[right]) < 1e-7
    assert gradient_check(lambda: (x ** 3).sum(), [x], grads=[right * 1.01]) > 1e-4


def test_user_grads_of_a_module_by_parameter_name(float64, rng):
    model = nn.Dense(3, 2)
    X = float64.asarray(rng.normal(size=(4, 3)))
    (model(X) ** 2).sum().backward()
    grads = {"W": model.W.grad.copy(), "b": model.b.grad.copy()}
    assert gradient_check(lambda: (model(X) ** 2).sum(), model, grads=grads) < 1e-7


def test_user_grads_must_match_names_and_shapes(backend, rng):
    params, cost, backward = _two_layer(backend, rng)
    grads = backward()
    with pytest.raises(ConfigError, match=r"missing \['b2'\]"):
        gradient_check(cost, params, grads={k: v for k, v in grads.items() if k != "b2"})
    with pytest.raises(ShapeError, match=r"grads\['W1'\] has shape \(3, 4\)"):
        gradient_check(cost, params, grads={**grads, "W1": grads["W1"].T})


def test_user_grads_need_a_scalar_cost(backend, rng):
    x = dlx.Tensor(backend.asarray(rng.normal(size=(3,))), requires_grad=True)
    with pytest.raises(ShapeError, match="scalar cost"):
        gradient_check(lambda: x * 2.0, [x], grads=[x.data])


# -- gradient_check refusals ------------------------------------------------------------------
def test_an_unused_tensor_is_refused_not_passed(backend, rng):
    x = dlx.Tensor(backend.asarray(rng.normal(size=(3,))), requires_grad=True)
    unused = dlx.Tensor(backend.asarray(rng.normal(size=(2,))), requires_grad=True, name="u")
    for check in (gradient_check, directional_check):
        with pytest.raises(ConfigError, match=r"does not depend on 'u\[1\]'"):
            check(lambda: (x * x).sum(), [x, unused])
        with pytest.raises(ConfigError, match="depends on none"):
            check(lambda: (x * x).sum(), [unused], allow_unused=True)


def test_allow_unused_skips_and_reports_it(backend, rng):
    x = dlx.Tensor(backend.asarray(rng.normal(size=(3,))), requires_grad=True)
    unused = dlx.Tensor(backend.asarray(rng.normal(size=(2,))), requires_grad=True)
    report = gradient_check_report(lambda: (x * x).sum(), {"x": x, "u": unused},
                                   allow_unused=True)
    assert report.unused == ["u"] and list(report.per_tensor) == ["x"] and report.passed
    assert directional_check(lambda: (x * x).sum(), [x, unused], allow_unused=True) < 1e-7


def test_user_grads_for_an_unused_array_are_refused(backend, rng):
    params, cost, backward = _two_layer(backend, rng)
    params["extra"] = backend.asarray(rng.normal(size=(2,)))
    grads = {**backward(), "extra": backend.xp.zeros(2)}
    with pytest.raises(ConfigError, match="does not depend on 'extra'"):
        gradient_check(cost, params, grads=grads)


@pytest.mark.parametrize("eps", [0, -1e-7, float("nan"), float("inf")])
def test_eps_must_be_positive_and_finite(rng, eps):
    x = dlx.Tensor(rng.normal(size=(3,)), requires_grad=True)
    for check in (gradient_check, directional_check):
        with pytest.raises(ConfigError, match="eps must be a positive finite number"):
            check(lambda: (x * x).sum(), [x], eps=eps)


# -- F.pad -------------------------------------------------------------------------------------
PAD_CASES = [
    OpCase("pad-zero-HW", lambda x: F.pad(x, 1, axes=(2, 3)),
           lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), [(2, 1, 3, 3)]),
    OpCase("pad-uneven-all-axes", lambda x: F.pad(x, [(1, 0), (0, 2)], value=0.5),
           lambda x: np.pad(x, ((1, 0), (0, 2)), constant_values=0.5), [(3, 4)]),
    OpCase("pad-one-axis-negative", lambda x: F.pad(x, (2, 1), axes=-1, value=-3.0),
           lambda x: np.pad(x, ((0, 0), (0, 0), (2, 1)), constant_values=-3.0), [(2, 3, 2)]),
    OpCase("pad-zero-width", lambda x: F.pad(x, 0), lambda x: x, [(2, 3)]),
]


@pytest.mark.parametrize("case", PAD_CASES, ids=lambda c: c.name)
def test_pad_op(case, backend, rng):
    run_op_checks(case, backend, rng)


def test_pad_is_the_course_zero_pad(backend, rng):
    """The course's zero_pad(X, 3) on (4, 3, 3, 2) NHWC gives (4, 9, 9, 2); NCHW the same."""
    x = backend.asarray(rng.normal(size=(4, 2, 3, 3)))
    y = F.pad(x, 3, axes=(2, 3))
    assert y.shape == (4, 2, 9, 9)
    host = backend.to_host(y.data)
    assert (host[:, :, :3] == 0).all() and (host[:, :, :, -3:] == 0).all()
    np.testing.assert_array_equal(host[:, :, 3:6, 3:6], backend.to_host(x))


@pytest.mark.parametrize("kwargs, message", [
    ({"width": -1}, "non-negative integers"),
    ({"width": 1.5}, "non-negative integers"),
    ({"width": [1, 2, 3]}, "one of those per axis"),
    ({"width": 1, "axes": (3,)}, "axis 3 is out of range"),
    ({"width": 1, "axes": (1, -1)}, "repeat an axis"),
    ({"width": 1, "value": "zero"}, "value must be a real number"),
])
def test_pad_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        F.pad(np.ones((2, 3)), **kwargs)


def test_the_docs_course_style_example_runs_and_passes():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "inspection.md").read_text()
    start = text.index("```python\nimport numpy as np") + len("```python\n")
    namespace = {}
    exec(text[start:text.index("```", start)], namespace)  # noqa: S102 - our own docs
    assert namespace["report"].passed and namespace["report"].unused == []
