"""Optimisers: the first three updates equal the course formulas written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlx.core import Parameter
from dlx.errors import CheckpointError, ConfigError
from dlx.optim import GD, Adam, Momentum, RMSprop

W0 = np.array([[0.5, -1.0, 2.0], [0.25, 0.0, -0.75]])
B0 = np.array([0.1, -0.2])
# the gradients fed at steps 1, 2, 3 (dW, db)
GRADS = [(np.array([[0.3, -0.1, 0.2], [1.0, -2.0, 0.5]]), np.array([0.05, -0.4])),
         (np.array([[-0.2, 0.4, 0.0], [0.6, 0.1, -0.3]]), np.array([0.2, 0.1])),
         (np.array([[0.1, 0.1, -0.5], [-1.2, 0.7, 0.9]]), np.array([-0.3, 0.25]))]


def run(backend, make, steps=3):
    """Apply ``steps`` updates with GRADS; return the host parameter values after each."""
    W, b = Parameter(backend.asarray(W0.copy())), Parameter(backend.asarray(B0.copy()))
    opt = make([W, b])
    history = []
    for gW, gb in GRADS[:steps]:
        W.grad, b.grad = backend.asarray(gW), backend.asarray(gb)
        opt.step()
        history.append((backend.to_host(W.data).copy(), backend.to_host(b.data).copy()))
    return history


def by_hand(rule):
    """Course formulas in plain float64 NumPy: rule(theta, g, state, t) -> theta."""
    thetas, states, history = [W0.copy(), B0.copy()], [{}, {}], []
    for t, grads in enumerate(GRADS, start=1):
        thetas = [rule(theta, g, state, t) for theta, g, state in zip(thetas, grads, states)]
        history.append(tuple(thetas))
    return history


def gd_rule(theta, g, state, t, lr=0.1):
    return theta - lr * g


def momentum_rule(theta, g, state, t, lr=0.1, beta=0.9, corrected=False):
    state["v"] = beta * state.get("v", 0.0) + (1 - beta) * g
    v = state["v"] / (1 - beta ** t) if corrected else state["v"]
    return theta - lr * v


def rmsprop_rule(theta, g, state, t, lr=0.01, beta2=0.999, eps=1e-8):
    state["s"] = beta2 * state.get("s", 0.0) + (1 - beta2) * g ** 2
    return theta - lr * g / (np.sqrt(state["s"]) + eps)


def adam_rule(theta, g, state, t, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    state["v"] = beta1 * state.get("v", 0.0) + (1 - beta1) * g
    state["s"] = beta2 * state.get("s", 0.0) + (1 - beta2) * g ** 2
    v_corr = state["v"] / (1 - beta1 ** t)
    s_corr = state["s"] / (1 - beta2 ** t)
    return theta - lr * v_corr / (np.sqrt(s_corr) + eps)


CASES = {
    "gd": (lambda p: GD(p, lr=0.1), gd_rule),
    "momentum": (lambda p: Momentum(p, lr=0.1), momentum_rule),
    "momentum_corrected": (lambda p: Momentum(p, lr=0.1, bias_correction=True),
                           lambda *a: momentum_rule(*a, corrected=True)),
    "rmsprop": (lambda p: RMSprop(p, lr=0.01), rmsprop_rule),
    "adam": (lambda p: Adam(p, lr=0.01), adam_rule),
}


@pytest.mark.parametrize("name", list(CASES))
def test_first_three_updates_match_course_formulas(backend, name):
    make, rule = CASES[name]
    got, want = run(backend, make), by_hand(rule)
    for t, ((gW, gb), (wW, wb)) in enumerate(zip(got, want), start=1):
        np.testing.assert_allclose(gW, wW, rtol=0, atol=1e-12, err_msg=f"{name} W, t={t}")
        np.testing.assert_allclose(gb, wb, rtol=0, atol=1e-12, err_msg=f"{name} b, t={t}")


def test_adam_bias_correction_at_t1_is_a_sign_step(backend):
    # at t = 1, v_corr = g and s_corr = g^2, so the step is lr * g / (|g| + eps) ~ lr * sign(g)
    (W, _), = run(backend, lambda p: Adam(p, lr=0.01), steps=1)
    g = GRADS[0][0]
    np.testing.assert_allclose(W, W0 - 0.01 * g / (np.abs(g) + 1e-8), atol=1e-12)
    assert np.abs(W - W0).max() <= 0.01 + 1e-12


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam"])
def test_gradients_are_not_modified(backend, name):
    W = Parameter(backend.asarray(W0.copy()))
    opt = CASES[name][0]([W])
    g = backend.asarray(GRADS[0][0].copy())
    W.grad = g
    opt.step()
    opt.step()
    np.testing.assert_array_equal(backend.to_host(g), GRADS[0][0])


def test_float32_parameters_stay_float32(backend):
    W = Parameter(backend.asarray(W0, dtype=backend.xp.float32))
    opt = Adam([W])
    W.grad = backend.asarray(GRADS[0][0], dtype=backend.xp.float32)
    data_before = W.data
    opt.step()
    assert W.data.dtype == backend.xp.float32
    assert W.data is data_before  # updated in place
    assert opt.state[W]["v"].dtype == backend.xp.float32


@pytest.mark.parametrize("name", ["momentum_corrected", "rmsprop", "adam"])
def test_state_dict_round_trip(backend, name):
    """Save after 2 steps, restore into a fresh optimiser on copied parameters: the third
    step is identical, and the state is keyed by parameter object, saved by position."""
    make = CASES[name][0]
    W, b = Parameter(backend.asarray(W0.copy())), Parameter(backend.asarray(B0.copy()))
    opt = make([W, b])
    for gW, gb in GRADS[:2]:
        W.grad, b.grad = backend.asarray(gW), backend.asarray(gb)
        opt.step()
    saved = opt.state_dict()
    assert saved["hyper"]["t"] == 2 and saved["hyper"]["type"] == type(opt).__name__
    assert all(isinstance(v, np.ndarray) for v in saved["arrays"].values())

    W2, b2 = Parameter(W.data.copy()), Parameter(b.data.copy())
    restored = make([W2, b2])
    restored.load_state_dict(saved)
    assert set(restored.state) == {W2, b2}
    gW, gb = GRADS[2]
    for params, o in (((W, b), opt), ((W2, b2), restored)):
        params[0].grad, params[1].grad = backend.asarray(gW), backend.asarray(gb)
        o.step()
    np.testing.assert_array_equal(backend.to_host(W2.data), backend.to_host(W.data))
    np.testing.assert_array_equal(backend.to_host(b2.data), backend.to_host(b.data))


def test_state_dict_rejects_another_optimiser(backend):
    W = Parameter(backend.asarray(W0.copy()))
    saved = Adam([W]).state_dict()
    with pytest.raises(CheckpointError, match="Adam"):
        RMSprop([W]).load_state_dict(saved)


def test_hyperparameters_are_saved(backend):
    W = Parameter(backend.asarray(W0.copy()))
    hyper = Adam([W], lr=0.02, beta1=0.8, beta2=0.99, epsilon=1e-7).state_dict()["hyper"]
    assert hyper == {"type": "Adam", "lr": 0.02, "t": 0, "beta1": 0.8, "beta2": 0.99,
                     "epsilon": 1e-7}


@pytest.mark.parametrize("make", [lambda p: Momentum(p, beta=1.0),
                                  lambda p: RMSprop(p, epsilon=0.0),
                                  lambda p: Adam(p, beta1=-0.1),
                                  lambda p: Adam(p, lr=0.0)])
def test_bad_hyperparameters_raise(backend, make):
    with pytest.raises(ConfigError):
        make([Parameter(backend.asarray(W0.copy()))])


def test_skips_parameters_without_gradient(backend):
    W, b = Parameter(backend.asarray(W0.copy())), Parameter(backend.asarray(B0.copy()))
    opt = Adam([W, b])
    W.grad = backend.asarray(GRADS[0][0])
    opt.step()
    np.testing.assert_array_equal(backend.to_host(b.data), B0)
    # b's state, if allocated (a view of the shared flat state), was never touched
    assert all(not backend.to_host(v).any() for v in opt.state.get(b, {}).values())
    assert math.isclose(opt.t, 1)
    W.grad, b.grad = backend.asarray(GRADS[1][0]), backend.asarray(GRADS[1][1])
    opt.step()  # now the flat path: b moves, W keeps its earlier state
    assert not np.array_equal(backend.to_host(b.data), B0)


@pytest.mark.parametrize("make", [lambda p: Momentum(p, bias_correction=True),
                                  lambda p: RMSprop(p, lr=0.01), lambda p: Adam(p, lr=0.01)])
def test_flat_and_per_parameter_steps_give_the_same_bits(backend, make):
    runs = []
    for flat in (True, False):
        W, b = Parameter(backend.asarray(W0.copy())), Parameter(backend.asarray(B0.copy()))
        opt = make([W, b])
        if not flat:
            opt.flat = None  # the per-parameter path
        for gW, gb in GRADS:
            W.grad, b.grad = backend.asarray(gW), backend.asarray(gb)
            opt.step()
        runs.append((backend.to_host(W.data), backend.to_host(b.data),
                     {k: backend.to_host(v) for k, v in opt.state_dict()["arrays"].items()}))
    (W1, b1, s1), (W2, b2, s2) = runs
    np.testing.assert_array_equal(W1, W2)
    np.testing.assert_array_equal(b1, b2)
    assert s1.keys() == s2.keys() and all(np.array_equal(s1[k], s2[k]) for k in s1)
