"""Learning-rate schedules and the Bold Driver."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlx import nn
from dlx.core import Parameter
from dlx.errors import ConfigError
from dlx.optim import (GD, Adam, BoldDriver, ExponentialDecay, InverseSqrtBatchDecay,
                       InverseSqrtDecay, InverseTimeDecay, StaircaseDecay)


def test_inverse_time_decay():
    s = InverseTimeDecay(0.2, decay_rate=1.0)
    assert [s(n) for n in range(4)] == pytest.approx([0.2, 0.1, 0.2 / 3, 0.05])


def test_exponential_decay():
    s = ExponentialDecay(0.1)
    assert [s(n) for n in range(3)] == pytest.approx([0.1, 0.095, 0.1 * 0.95 ** 2])


def test_inverse_sqrt_decay_counts_epochs_from_one():
    s = InverseSqrtDecay(0.1, k=0.5)
    assert [s(n) for n in range(3)] == pytest.approx([0.05, 0.05 / math.sqrt(2),
                                                      0.05 / math.sqrt(3)])
    assert not s.per_batch


def test_inverse_sqrt_batch_decay_is_per_batch():
    s = InverseSqrtBatchDecay(0.1, k=2.0)
    assert s.per_batch and s(99) == pytest.approx(0.1 * 2.0 / 10)


def test_staircase_is_constant_between_steps():
    s = StaircaseDecay(0.1, decay_rate=1.0, interval=10)
    assert [s(n) for n in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05,
                                                                0.1 / 3])


def test_apply_sets_optimizer_lr():
    opt = GD([Parameter(np.zeros(2))], lr=1.0)
    assert ExponentialDecay(0.5).apply(opt, 2) == pytest.approx(0.5 * 0.95 ** 2)
    assert opt.lr == pytest.approx(0.5 * 0.95 ** 2)


@pytest.mark.parametrize("make", [lambda: InverseTimeDecay(0.0), lambda: InverseTimeDecay(
    0.1, decay_rate=-1), lambda: ExponentialDecay(0.1, base=1.5),
    lambda: StaircaseDecay(0.1, interval=0), lambda: InverseSqrtDecay(0.1, k=0)])
def test_bad_settings_raise(make):
    with pytest.raises(ConfigError):
        make()


def test_negative_step_raises():
    with pytest.raises(ConfigError):
        InverseTimeDecay(0.1)(-1)


def test_bold_driver_rule():
    opt = GD([Parameter(np.zeros(2))], lr=0.1)
    driver = BoldDriver(opt)
    first = driver.after_epoch(1.0, "w1")
    assert first.kind == "accept" and opt.lr == pytest.approx(0.1)
    fell = driver.after_epoch(0.8, "w2")
    assert fell.kind == "increase" and opt.lr == pytest.approx(0.105)
    rose = driver.after_epoch(0.9, "w3")
    assert rose.restore and rose.snapshot == "w2" and opt.lr == pytest.approx(0.0525)
    # compared with the last accepted cost (0.8), not the rejected one
    again = driver.after_epoch(0.85, "w4")
    assert again.restore and again.snapshot == "w2" and opt.lr == pytest.approx(0.02625)
    better = driver.after_epoch(0.7, "w5")
    assert better.kind == "increase" and opt.lr == pytest.approx(0.02625 * 1.05)
    assert driver.after_epoch(float("nan"), "w6").restore


def test_bold_driver_step_restores_model_and_optimizer(backend):
    backend.seed(0)
    model = nn.Sequential(nn.Dense(3, 2))
    opt = Adam(model.parameters(), lr=0.1)
    driver = BoldDriver(opt)

    def train_step():
        for p in model.parameters():
            p.grad = backend.xp.ones_like(p.data)
        opt.step()

    train_step()
    driver.step(1.0, model)
    accepted = {k: v.copy() for k, v in model.state_dict().items()}
    accepted_v = backend.to_host(opt.state[model.layers[0].W]["v"]).copy()
    train_step()
    action = driver.step(2.0, model)  # cost rose: back to the accepted weights
    assert action.restore and opt.lr == pytest.approx(0.05) and opt.t == 1
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, accepted[k])
    np.testing.assert_array_equal(backend.to_host(opt.state[model.layers[0].W]["v"]),
                                  accepted_v)
    train_step()  # training on must not corrupt the kept snapshot
    assert driver.step(3.0, model).restore
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, accepted[k])
