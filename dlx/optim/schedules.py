"""Learning-rate decay schedules and the Bold Driver.

A schedule maps a step count to a learning rate: ``schedule(n) -> alpha``. Epoch schedules
take the 0-based epoch index n (the course assignment's ``epoch_num``, so epoch 0 trains with
alpha0); per-mini-batch schedules (``per_batch = True``) take the number of mini-batches
seen, t. ``schedule.apply(optimizer, n)`` sets ``optimizer.lr``. The training loop calls it
at the start of every epoch (or every mini-batch when ``per_batch``).

    InverseTimeDecay      alpha0 / (1 + decay_rate * n)
    ExponentialDecay      alpha0 * base^n                       (base 0.95)
    InverseSqrtDecay      alpha0 * k / sqrt(n + 1)              (epoch number counted from 1)
    InverseSqrtBatchDecay alpha0 * k / sqrt(t + 1)              (per mini-batch)
    StaircaseDecay        alpha0 / (1 + decay_rate * floor(n / interval))  (discrete steps)

The Bold Driver adapts the rate from the cost instead; see :class:`BoldDriver`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dlx.errors import ConfigError


class Schedule:
    """Base: ``lr0`` and the rule ``rate(n)``; ``per_batch`` says what n counts."""

    per_batch = False

    def __init__(self, lr0: float):
        if not lr0 > 0:
            raise ConfigError(f"{type(self).__name__}: lr0 must be > 0, got {lr0}")
        self.lr0 = float(lr0)

    def __call__(self, n: int) -> float:
        if n < 0:
            raise ConfigError(f"{type(self).__name__}: step must be >= 0, got {n}")
        return self.rate(int(n))

    def rate(self, n: int) -> float:
        raise NotImplementedError

    def apply(self, optimizer, n: int) -> float:
        """Set ``optimizer.lr`` to the rate for step n and return it."""
        optimizer.lr = self(n)
        return optimizer.lr


def _nonnegative(owner, **values):
    for name, value in values.items():
        if not value >= 0:
            raise ConfigError(f"{owner}: {name} must be >= 0, got {value}")


class InverseTimeDecay(Schedule):
    """alpha = alpha0 / (1 + decay_rate * epoch)."""

    def __init__(self, lr0: float, decay_rate: float = 1.0):
        super().__init__(lr0)
        _nonnegative("InverseTimeDecay", decay_rate=decay_rate)
        self.decay_rate = float(decay_rate)

    def rate(self, n):
        return self.lr0 / (1.0 + self.decay_rate * n)


class ExponentialDecay(Schedule):
    """alpha = base^epoch * alpha0 (base 0.95 in the course)."""

    def __init__(self, lr0: float, base: float = 0.95):
        super().__init__(lr0)
        if not 0 < base <= 1:
            raise ConfigError(f"ExponentialDecay: base must be in (0, 1], got {base}")
        self.base = float(base)

    def rate(self, n):
        return self.lr0 * self.base ** n


class InverseSqrtDecay(Schedule):
    """alpha = k / sqrt(epoch_num) * alpha0 with epoch_num = epoch + 1."""

    def __init__(self, lr0: float, k: float = 1.0):
        super().__init__(lr0)
        if not k > 0:
            raise ConfigError(f"{type(self).__name__}: k must be > 0, got {k}")
        self.k = float(k)

    def rate(self, n):
        return self.lr0 * self.k / math.sqrt(n + 1)


class InverseSqrtBatchDecay(InverseSqrtDecay):
    """alpha = k / sqrt(t) * alpha0, t = mini-batches seen + 1 (stepped every mini-batch)."""

    per_batch = True


class StaircaseDecay(Schedule):
    """alpha = alpha0 / (1 + decay_rate * floor(epoch / interval)): constant between steps
    (the course assignment's ``schedule_lr_decay``; time_interval=1000 there)."""

    def __init__(self, lr0: float, decay_rate: float = 1.0, interval: int = 1000):
        super().__init__(lr0)
        _nonnegative("StaircaseDecay", decay_rate=decay_rate)
        if int(interval) < 1:
            raise ConfigError(f"StaircaseDecay: interval must be >= 1, got {interval}")
        self.decay_rate, self.interval = float(decay_rate), int(interval)

    def rate(self, n):
        return self.lr0 / (1.0 + self.decay_rate * (n // self.interval))


@dataclass
class BoldDriverAction:
    """What the training loop must do after an epoch.

    ``kind``: "accept" (first epoch or the cost did not change; keep going), "increase"
    (the cost fell; lr raised) or "restore" (the cost rose; lr lowered and the loop must
    load ``snapshot``, the state saved at the last accepted epoch). ``lr``: the new rate,
    already set on the optimiser.
    """

    kind: str
    lr: float
    snapshot: Any = None

    @property
    def restore(self) -> bool:
        return self.kind == "restore"


class BoldDriver:
    """Bold Driver: after each epoch compare the cost with the last accepted one.

    cost fell  -> lr *= increase (1.05), the new state is accepted;
    cost rose  -> lr *= decrease (0.5), restore the last accepted state (returned);
    unchanged  -> accepted, lr kept.

    The loop snapshots whatever it needs to restore (e.g. copies of the model's and the
    optimiser's state dicts) and calls::

        action = driver.after_epoch(cost, snapshot)
        if action.restore:
            load(action.snapshot)

    :meth:`step` does exactly that for a Module and its optimiser.
    """

    def __init__(self, optimizer, increase: float = 1.05, decrease: float = 0.5):
        if not increase >= 1 or not 0 < decrease < 1:
            raise ConfigError(f"BoldDriver: need increase >= 1 and 0 < decrease < 1, got "
                              f"increase={increase}, decrease={decrease}")
        self.optimizer, self.increase, self.decrease = optimizer, increase, decrease
        self.best_cost: float | None = None
        self.snapshot = None

    def after_epoch(self, cost: float, snapshot=None) -> BoldDriverAction:
        """Adjust ``optimizer.lr`` from this epoch's ``cost``; ``snapshot`` is the state now."""
        cost = float(cost)
        if not math.isfinite(cost) and self.best_cost is None:
            raise ConfigError(f"BoldDriver: the first epoch's cost is {cost}; nothing to "
                              "restore")
        opt = self.optimizer
        if self.best_cost is not None and not cost <= self.best_cost:  # rose (or NaN)
            opt.lr *= self.decrease
            return BoldDriverAction("restore", opt.lr, self.snapshot)
        kind = "increase" if self.best_cost is not None and cost < self.best_cost else "accept"
        if kind == "increase":
            opt.lr *= self.increase
        self.best_cost, self.snapshot = cost, snapshot
        return BoldDriverAction(kind, opt.lr)

    def step(self, cost: float, model) -> BoldDriverAction:
        """``after_epoch`` with snapshots of ``model`` and the optimiser taken and restored."""
        snapshot = {"model": _copied(model.state_dict()),
                    "optimizer": _copied_optimizer(self.optimizer.state_dict())}
        action = self.after_epoch(cost, snapshot)
        if action.restore:
            lr = self.optimizer.lr
            model.load_state_dict(_copied(action.snapshot["model"]))
            self.optimizer.load_state_dict(_copied_optimizer(action.snapshot["optimizer"]))
            self.optimizer.lr = lr
        return action


def _copied(arrays: dict) -> dict:
    # state dicts may alias live device/host arrays; keep snapshots independent of them
    return {k: v.copy() for k, v in arrays.items()}


def _copied_optimizer(state: dict) -> dict:
    return {"hyper": dict(state["hyper"]), "arrays": _copied(state["arrays"])}
