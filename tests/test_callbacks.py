"""Callbacks: early stopping, checkpoints every N / on best, LR schedules, Bold Driver, NaN guard.

Most tests drive a callback with scripted epoch records through a minimal trainer, so the
expected behaviour is exact and independent of training noise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import dlx.backends as B
from dlx.errors import ConfigError, TrainingDivergedError
from dlx.nn import Dense, Sequential
from dlx.optim import Adam, GradientDescent, InverseSqrtBatchDecay, InverseTimeDecay
from dlx.train import (BoldDriver, Checkpoint, EarlyStopping, LRScheduler, NaNGuard, fit,
                       load_checkpoint)


class FakeTrainer:
    """What callbacks see: model, optimizer, epoch, epochs, step, stop_training, save()."""

    def __init__(self, epochs=10):
        B.current().seed(0)
        self.model = Sequential(Dense(3, 2))
        self.optimizer = GradientDescent(self.model.parameters(), lr=0.1)
        self.epoch, self.epochs, self.stop_training = 0, epochs, False
        self.saved = []

    @property
    def step(self):
        return self.optimizer.t

    def save(self, path):
        self.saved.append((self.epoch, str(path)))

    def set_weight(self, value):
        self.model.layers[0].W.data[...] = value

    def weight(self):
        return float(self.model.layers[0].W.data.flat[0])


def _run_epochs(callback, trainer, values, key="dev_cost"):
    callback.on_train_begin(trainer)
    for value in values:
        if trainer.stop_training:
            break
        callback.on_epoch_begin(trainer)
        trainer.epoch += 1
        trainer.set_weight(value)  # the "weights" of an epoch encode its monitored value
        callback.on_epoch_end(trainer, {"epoch": trainer.epoch, key: value, "cost": value})
    callback.on_train_end(trainer)


def test_early_stopping_waits_patience_then_restores_best_weights():
    trainer = FakeTrainer()
    stop = EarlyStopping(patience=2, min_delta=0.01)
    _run_epochs(stop, trainer, [1.0, 0.5, 0.495, 0.6, 0.7, 0.1])
    # 0.495 is not better than 0.5 by more than min_delta: epochs 3, 4, 5 without improvement
    assert trainer.epoch == 5 and stop.stopped_epoch == 5 and stop.best_epoch == 2
    assert trainer.weight() == pytest.approx(0.5)


def test_early_stopping_on_accuracy_maximises_and_can_keep_last_weights():
    trainer = FakeTrainer()
    stop = EarlyStopping(monitor="dev_accuracy", patience=0, restore_best_weights=False)
    _run_epochs(stop, trainer, [0.8, 0.9, 0.85, 0.95], key="dev_accuracy")
    assert trainer.epoch == 3 and stop.best_epoch == 2
    assert trainer.weight() == pytest.approx(0.85)


def test_early_stopping_without_dev_data_says_what_to_do():
    trainer = FakeTrainer()
    with pytest.raises(ConfigError, match="pass dev data"):
        _run_epochs(EarlyStopping(), trainer, [1.0], key="cost_only")


def test_checkpoint_every_n_epochs_on_best_and_at_the_end():
    trainer = FakeTrainer(epochs=5)
    cb = Checkpoint("last.npz", every=2, best_path="best.npz")
    _run_epochs(cb, trainer, [1.0, 0.8, 0.9, 0.7, 0.75])
    assert [e for e, p in trainer.saved if p == "last.npz"] == [2, 4, 5]
    assert [e for e, p in trainer.saved if p == "best.npz"] == [1, 2, 4]


def test_lr_scheduler_per_epoch_sets_the_rate_each_epoch_in_fit(rng):
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    B.current().seed(0)
    model = Sequential(Dense(3, 2))
    schedule = InverseTimeDecay(0.1, decay_rate=1.0)
    history = fit(model, (X, y), epochs=4, optimizer="gd", batch_size=10, verbose=False,
                  callbacks=[LRScheduler(schedule)])
    assert history["lr"] == pytest.approx([0.1 / (1 + n) for n in range(4)])


def test_lr_scheduler_per_batch_follows_the_step_count():
    trainer = FakeTrainer()
    schedule = InverseSqrtBatchDecay(0.1)
    cb = LRScheduler(schedule)
    assert cb.per_batch
    cb.on_epoch_begin(trainer)
    assert trainer.optimizer.lr == pytest.approx(0.1)
    for t in range(1, 4):
        trainer.optimizer.t = t
        cb.on_batch_end(trainer)
        assert trainer.optimizer.lr == pytest.approx(0.1 / math.sqrt(t + 1))


def test_bold_driver_raises_rate_when_cost_falls_and_restores_when_it_rises():
    trainer = FakeTrainer()
    cb = BoldDriver()
    _run_epochs(cb, trainer, [1.0, 0.8])
    assert trainer.optimizer.lr == pytest.approx(0.1 * 1.05)
    trainer.stop_training = False
    cb.on_epoch_begin(trainer)
    trainer.epoch += 1
    trainer.set_weight(0.9)
    cb.on_epoch_end(trainer, {"epoch": trainer.epoch, "cost": 0.9})
    assert trainer.optimizer.lr == pytest.approx(0.1 * 1.05 * 0.5)
    assert trainer.weight() == pytest.approx(0.8)  # the weights of the accepted epoch


def test_bold_driver_state_survives_a_checkpoint(tmp_path, rng):
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    B.current().seed(0)
    model = Sequential(Dense(3, 2))
    fit(model, (X, y), epochs=3, optimizer="adam", lr=0.01, batch_size=10, verbose=False,
        callbacks=[BoldDriver(), Checkpoint(tmp_path / "c.npz")])
    ckpt = load_checkpoint(tmp_path / "c.npz")
    index = [c["type"] for c in ckpt.meta["callbacks"]].index("BoldDriver")
    state = ckpt.callback_state(index)
    restored = BoldDriver()
    restored.load_state_dict(state)
    restored.on_train_begin(FakeTrainerFor(model))
    assert restored.driver.best_cost == state["best_cost"] is not None
    assert set(restored.driver.snapshot["model"]) == set(model.state_dict())
    assert restored.driver.snapshot["optimizer"]["hyper"]["type"] == "Adam"


class FakeTrainerFor(FakeTrainer):
    def __init__(self, model):
        self.model = model
        self.optimizer = Adam(model.parameters(), lr=0.01)


def test_nan_guard_stops_with_a_clear_message():
    guard = NaNGuard()
    trainer = FakeTrainer()
    guard.on_epoch_end(trainer, {"epoch": 1, "cost": 0.5, "lr": 0.1})
    with pytest.raises(TrainingDivergedError, match="cost is inf at epoch 2.*learning rate 0.1"):
        guard.on_epoch_end(trainer, {"epoch": 2, "cost": math.inf, "lr": 0.1})
    with pytest.raises(TrainingDivergedError, match="dev_cost is nan"):
        guard.on_epoch_end(trainer, {"epoch": 3, "cost": 0.5, "dev_cost": math.nan})


def test_callbacks_run_in_order_guard_first_checkpoint_last():
    from dlx.train.loop import Trainer

    cbs = [Checkpoint("c.npz"), EarlyStopping(), NaNGuard(), BoldDriver()]
    trainer = Trainer(FakeTrainer().model, None, cbs, 1)
    assert [type(c).__name__ for c in trainer.callbacks] == \
        ["NaNGuard", "BoldDriver", "EarlyStopping", "Checkpoint"]


def test_bad_callback_arguments_are_config_errors():
    with pytest.raises(ConfigError):
        EarlyStopping(patience=-1)
    with pytest.raises(ConfigError):
        Checkpoint("c.npz", every=0)
    with pytest.raises(ConfigError):
        LRScheduler(0.1)
    with pytest.raises(ConfigError):
        EarlyStopping(mode="sideways")
