"""Callbacks: hooks the training loop calls around epochs and batches.

A callback sees the :class:`~dlx.train.loop.Trainer` (``model``, ``optimizer``, ``history``,
``epoch`` = epochs completed, ``step`` = updates taken, ``stop_training``, ``save(path)``)
and the epoch's ``logs`` record. ``state_dict()``/``load_state_dict()`` carry what a callback
must remember across a resume; arrays in the state are stored as checkpoint arrays.

Callbacks run in ascending ``order`` (stable): the NaN guard first, then weight-changing
callbacks (Bold Driver), then monitors (early stopping), checkpoints last — so a checkpoint
written at the end of an epoch holds every other callback's updated state.
"""

from __future__ import annotations

import math

from dlx.errors import ConfigError, TrainingDivergedError


class Callback:
    """Base class: override the hooks you need."""

    order = 0

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer) -> None: ...

    def on_batch_end(self, trainer) -> None:
        """After every optimiser step; must not read device values back to the host."""

    def on_epoch_end(self, trainer, logs: dict) -> None: ...

    def on_train_end(self, trainer) -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


# -- weight snapshots kept on the device ---------------------------------------------------------
def snapshot(model) -> dict:
    """Device copies of every parameter and buffer, by state-dict name."""
    state = {name: p.data.copy() for name, p in model.named_parameters()}
    state.update({name: b.copy() for name, b in model.named_buffers()})
    return state


def load_snapshot(model, state: dict) -> None:
    """Put copies of a snapshot back (copies: the snapshot must not alias live parameters)."""
    model.load_state_dict({name: value.copy() for name, value in state.items()})


def _prefixed(prefix: str, arrays: dict | None) -> dict:
    return {f"{prefix}{k}": v for k, v in (arrays or {}).items()}


def _unprefixed(prefix: str, state: dict) -> dict | None:
    arrays = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    return arrays or None


def _mode(monitor: str, mode: str) -> str:
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    if mode not in ("min", "max"):
        raise ConfigError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def _monitored(name: str, logs: dict, monitor: str) -> float:
    if logs.get(monitor) is None:
        raise ConfigError(f"{name}: monitored value {monitor!r} is not in the epoch record "
                          f"(have {', '.join(k for k, v in logs.items() if v is not None)}); "
                          "pass dev data to fit() or monitor 'cost'")
    return float(logs[monitor])


class _Monitor:
    """Tracks the best value of a logged quantity: improved if better by more than min_delta."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0):
        self.monitor, self.mode, self.min_delta = monitor, _mode(monitor, mode), abs(min_delta)
        self.best: float | None = None

    def improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class NaNGuard(Callback):
    """Stop with :class:`TrainingDivergedError` when an epoch's cost is NaN or infinite."""

    order = -100

    def on_epoch_end(self, trainer, logs):
        for key in ("cost", "dev_cost"):
            value = logs.get(key)
            if value is not None and not math.isfinite(value):
                raise TrainingDivergedError(
                    f"training diverged: {key} is {value} at epoch {logs['epoch']} "
                    f"(learning rate {logs.get('lr')}); lower the learning rate, normalise the "
                    "inputs, or check the data for NaN/Inf. The last checkpoint (if any) holds "
                    "the weights of the previous epoch.")


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs; with ``restore_best_weights`` the model ends with the weights of the best epoch."""

    order = 10

    def __init__(self, monitor: str = "dev_cost", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True):
        if patience < 0:
            raise ConfigError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.tracker = _Monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = int(patience), restore_best_weights
        self.wait, self.best_epoch, self.stopped_epoch = 0, 0, 0
        self.best_weights = None

    def on_epoch_end(self, trainer, logs):
        value = _monitored("EarlyStopping", logs, self.tracker.monitor)
        if self.tracker.improved(value):
            self.tracker.best, self.best_epoch, self.wait = value, logs["epoch"], 0
            if self.restore_best_weights:
                self.best_weights = snapshot(trainer.model)
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = logs["epoch"]
            trainer.stop_training = True

    def on_train_end(self, trainer):
        if self.restore_best_weights and self.best_weights is not None \
                and self.best_epoch != trainer.epoch:
            load_snapshot(trainer.model, self.best_weights)

    def state_dict(self):
        return {"best": self.tracker.best, "wait": self.wait, "best_epoch": self.best_epoch,
                **_prefixed("w.", self.best_weights)}

    def load_state_dict(self, state):
        self.tracker.best, self.wait = state.get("best"), int(state.get("wait", 0))
        self.best_epoch = int(state.get("best_epoch", 0))
        self.best_weights = _unprefixed("w.", state)


class Checkpoint(Callback):
    """Save a full checkpoint to ``path`` every ``every`` epochs (and at the last epoch), and
    to ``best_path`` whenever ``monitor`` improves. Runs after every other callback."""

    order = 100

    def __init__(self, path, every: int = 1, best_path=None, monitor: str = "dev_cost",
                 mode: str = "auto", min_delta: float = 0.0):
        if every < 1:
            raise ConfigError(f"Checkpoint: every must be >= 1, got {every}")
        self.path, self.every, self.best_path = path, int(every), best_path
        self.tracker = _Monitor(monitor, mode, min_delta)

    def on_epoch_end(self, trainer, logs):
        if self.best_path is not None:
            value = _monitored("Checkpoint", logs, self.tracker.monitor)
            if self.tracker.improved(value):
                self.tracker.best = value
                trainer.save(self.best_path)
        if logs["epoch"] % self.every == 0 or logs["epoch"] == trainer.epochs \
                or trainer.stop_training:
            trainer.save(self.path)

    def state_dict(self):
        return {"best": self.tracker.best}

    def load_state_dict(self, state):
        self.tracker.best = state.get("best")


class LRScheduler(Callback):
    """Set the optimiser's learning rate from a schedule (``dlx.optim.schedules``): before
    each epoch with ``schedule(epoch)`` (epoch counted from 0), or — for per-mini-batch
    schedules (``schedule.per_batch``) — before each update with ``schedule(t)``, t the
    number of updates taken. Any callable ``n -> lr`` works; ``per_batch`` overrides."""

    order = -10

    def __init__(self, schedule, per_batch: bool | None = None):
        if not callable(schedule):
            raise ConfigError(f"LRScheduler: schedule must be callable, got "
                              f"{type(schedule).__name__}")
        self.schedule = schedule
        self.per_batch = bool(getattr(schedule, "per_batch", False)
                              if per_batch is None else per_batch)

    def on_epoch_begin(self, trainer):
        n = trainer.step if self.per_batch else trainer.epoch
        trainer.optimizer.lr = float(self.schedule(n))

    def on_batch_end(self, trainer):
        if self.per_batch:
            trainer.optimizer.lr = float(self.schedule(trainer.step))


class BoldDriver(Callback):
    """The Bold Driver (``dlx.optim.schedules.BoldDriver``) as a callback: after each epoch,
    if the cost fell, raise the learning rate by ``increase`` (5%); if it rose, put back the
    model and optimiser state of the last accepted epoch and multiply the rate by
    ``decrease`` (halve it)."""

    order = -10

    def __init__(self, increase: float = 1.05, decrease: float = 0.5, monitor: str = "cost"):
        from dlx.optim.schedules import BoldDriver as Driver

        self._driver_class = Driver
        self.increase, self.decrease, self.monitor = increase, decrease, monitor
        self.driver = None
        self._saved: dict | None = None

    def on_train_begin(self, trainer):
        self.driver = self._driver_class(trainer.optimizer, self.increase, self.decrease)
        if self._saved is not None:
            self._load_into_driver(self._saved)
            self._saved = None

    def on_epoch_end(self, trainer, logs):
        self.driver.step(_monitored("BoldDriver", logs, self.monitor), trainer.model)

    def state_dict(self):
        driver = self.driver
        if driver is None or driver.snapshot is None:
            return {"best_cost": None}
        snap = driver.snapshot
        return {"best_cost": driver.best_cost, "optim_hyper": snap["optimizer"]["hyper"],
                **_prefixed("model.", snap["model"]),
                **_prefixed("optim.", snap["optimizer"]["arrays"])}

    def load_state_dict(self, state):
        self._saved = state
        if self.driver is not None:
            self._load_into_driver(state)

    def _load_into_driver(self, state):
        self.driver.best_cost = state.get("best_cost")
        if state.get("best_cost") is not None:
            self.driver.snapshot = {
                "model": _unprefixed("model.", state),
                "optimizer": {"hyper": state["optim_hyper"],
                              "arrays": _unprefixed("optim.", state) or {}}}
