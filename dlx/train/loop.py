"""The training loop: ``fit``, ``evaluate``, ``predict`` and ``predict_proba``.

One epoch of ``fit``::

    for X_b, y_b in MiniBatches(X, y, batch_size):      # shuffled with the backend's RNG
        J = loss(model(X_b), y_b) [+ L2 penalty]           # forward
        optimizer.zero_grad(); J.backward(); optimizer.step()
        cost_sum += J * m_b                                # on the device: no host sync

and once per epoch (the logging interval) ``cost = cost_sum / m`` and the accuracy are read
back to the host, the dev set is evaluated, the record goes into the History and the
callbacks run. ``train``/``dev`` are ``(X, y)`` pairs of host or device arrays, or objects
with ``X`` and ``y`` attributes.

The loss follows the task when ``loss="auto"``: integer labels and (m, K>1) outputs ->
softmax cross-entropy; integer labels and (m, 1) outputs -> binary cross-entropy on the
logit; float targets -> mean squared error. Models output logits (no final softmax).
"""

from __future__ import annotations

import time
import warnings

from dlx import backends
from dlx import functional as F
from dlx.core import Tensor, no_grad
from dlx.data.batches import MiniBatches
from dlx.errors import CheckpointError, ConfigError, ShapeError
from dlx.optim import Adam, GradientDescent, Momentum, Optimizer, RMSprop
from dlx.train.callbacks import NaNGuard
from dlx.train.checkpoint import Checkpoint, load_checkpoint, restore, save_checkpoint
from dlx.train.history import History
from dlx.train.progress import Progress

OPTIMIZERS = {"gd": GradientDescent, "sgd": GradientDescent, "momentum": Momentum,
              "rmsprop": RMSprop, "adam": Adam}
DEFAULT_LR = {"gd": 0.1, "sgd": 0.1, "momentum": 0.1, "rmsprop": 0.001, "adam": 0.001}


# -- inputs ------------------------------------------------------------------------------------
def as_xy(data, name: str = "data"):
    """``(X, y)`` from a pair or from an object with ``X`` and ``y`` attributes."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = data
    elif hasattr(data, "X") and hasattr(data, "y"):
        X, y = data.X, data.y
    else:
        raise ConfigError(f"{name} must be an (X, y) pair or have X and y attributes, "
                          f"got {type(data).__name__}")
    if len(X) != len(y):
        raise ShapeError(f"{name}: X has {len(X)} examples but y has {len(y)}")
    return X, y


def model_dtype(model):
    params = model.parameters()
    return params[0].dtype if params else backends.current().default_dtype


def make_optimizer(optimizer, params, lr: float | None = None) -> Optimizer:
    """An Optimizer from a name (gd, sgd, momentum, rmsprop, adam) or an instance."""
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            optimizer.lr = float(lr)
        return optimizer
    name = str(optimizer).lower()
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {optimizer!r}; expected one of "
                          f"{', '.join(OPTIMIZERS)} or an Optimizer instance")
    return OPTIMIZERS[name](params, lr=DEFAULT_LR[name] if lr is None else float(lr))


# -- loss and metric ------------------------------------------------------------------------------
def _auto_loss(out, y):
    if y.dtype.kind in "iu":
        if out.ndim == 2 and out.shape[1] > 1:
            return F.softmax_cross_entropy(out, y)
        return F.binary_cross_entropy_with_logits(out, y)
    return F.mean_squared_error(out, y)


LOSSES = {"auto": _auto_loss, "softmax_cross_entropy": F.softmax_cross_entropy,
          "binary_cross_entropy": F.binary_cross_entropy_with_logits,
          "mse": F.mean_squared_error}


def resolve_loss(loss):
    """A callable ``loss(outputs: Tensor, y: device array) -> 0-d Tensor``."""
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ConfigError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)} "
                          "or a callable(outputs, y)")
    return LOSSES[loss]


def _n_correct(xp, out, y):
    """Number of correct class predictions as a device 0-d array (None for float targets)."""
    if y.dtype.kind not in "iu":
        return None
    pred = xp.argmax(out, axis=1) if out.ndim == 2 and out.shape[1] > 1 \
        else (out.reshape(-1) > 0)
    return (pred == y).sum()


def _to_float(value) -> float | None:
    if value is None:
        return None
    return float(backends.backend_of(value).to_host(value))


class _Accumulator:
    """Sums of cost*m_b and correct predictions kept on the device until read."""

    def __init__(self):
        self.cost, self.correct, self.m = 0.0, None, 0

    def add(self, xp, loss, out, y):
        n = y.shape[0]
        self.cost = self.cost + loss.data * n
        correct = _n_correct(xp, out.data, y)
        if correct is not None:
            self.correct = correct if self.correct is None else self.correct + correct
        self.m += n

    def read(self) -> dict:
        """One device->host read of each sum."""
        correct = _to_float(self.correct)
        return {"cost": _to_float(self.cost) / self.m,
                "accuracy": None if correct is None else correct / self.m}


# -- evaluation and prediction ------------------------------------------------------------------
def _evaluate_batches(model, batches, loss_fn) -> dict:
    xp = backends.current().xp
    acc = _Accumulator()
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for xb, yb in batches:
                out = model(Tensor(xb))
                acc.add(xp, loss_fn(out, yb), out, yb)
    finally:
        model.train(was_training)
    return acc.read()


def evaluate(model, data, batch_size: int = 256, loss="auto") -> dict:
    """``{"cost": J, "accuracy": a}`` of ``model`` on ``data`` in evaluation mode (accuracy is
    None for float targets). The cost is the data loss (no L2 term)."""
    X, y = as_xy(data)
    batches = MiniBatches(X, y, batch_size=batch_size, shuffle=False, dtype=model_dtype(model))
    return _evaluate_batches(model, batches, resolve_loss(loss))


def _outputs(model, X, batch_size: int, transform):
    """``transform(logits)`` over X in evaluation mode, concatenated on the device."""
    backend = backends.current()
    parts = []
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for xb in MiniBatches(X, batch_size=batch_size, shuffle=False,
                                  dtype=model_dtype(model)):
                parts.append(transform(backend.xp, model(Tensor(xb)).data))
    finally:
        model.train(was_training)
    return backend.to_host(backend.xp.concatenate(parts))


def _probabilities(xp, z):
    if z.ndim == 2 and z.shape[1] > 1:
        e = xp.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    p = 1.0 / (1.0 + xp.exp(-z.reshape(-1, 1)))
    return xp.concatenate([1.0 - p, p], axis=1)


def predict_proba(model, X, batch_size: int = 256):
    """Class probabilities, host array (m, K): softmax of the logits (for one logit, the
    columns are [1 - sigmoid(z), sigmoid(z)])."""
    return _outputs(model, X, batch_size, _probabilities)


def predict(model, X, batch_size: int = 256):
    """Predicted class labels, host int64 array (m,)."""
    def labels(xp, z):
        if z.ndim == 2 and z.shape[1] > 1:
            return xp.argmax(z, axis=1).astype(xp.int64)
        return (z.reshape(-1) > 0).astype(xp.int64)

    return _outputs(model, X, batch_size, labels)


# -- training -------------------------------------------------------------------------------------
class Trainer:
    """The state callbacks see during ``fit``."""

    def __init__(self, model, optimizer, callbacks, epochs, checkpoint_info=None,
                 checkpoint_arrays=None):
        self.model, self.optimizer, self.epochs = model, optimizer, epochs
        self.callbacks = sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))
        self.history = History()
        self.epoch = 0  # epochs completed
        self.stop_training = False
        self.checkpoint_info = checkpoint_info or {}
        self.checkpoint_arrays = checkpoint_arrays or {}

    @property
    def step(self) -> int:
        """Optimiser updates taken so far (mini-batches seen)."""
        return self.optimizer.t

    def save(self, path):
        """Write a full checkpoint (model, optimiser, RNG, epoch, history, callbacks)."""
        return save_checkpoint(path, self.model, self.optimizer, epoch=self.epoch,
                               history=self.history, callbacks=self.callbacks,
                               extra=self.checkpoint_arrays, info=self.checkpoint_info)

    def resume_from(self, ckpt: Checkpoint) -> None:
        restore(ckpt, self.model, self.optimizer)
        self.epoch = ckpt.epoch
        self.history = History.from_dict(ckpt.meta.get("history"))
        saved = ckpt.meta.get("callbacks", [])
        for i, cb in enumerate(self.callbacks):
            if i < len(saved) and saved[i]["type"] == type(cb).__name__:
                cb.load_state_dict(ckpt.callback_state(i))
            else:
                warnings.warn(f"resume: callback {i} ({type(cb).__name__}) has no saved state "
                              "in the checkpoint; it starts fresh", stacklevel=3)


def fit(model, train, dev=None, *, epochs: int = 10, batch_size: int | None = 64,
        optimizer="adam", lr: float | None = None, loss="auto", l2: float = 0.0,
        callbacks=(), shuffle: bool = True, resume=None, verbose: bool = True,
        progress: bool | None = None, log_file=None, eval_batch_size: int = 256,
        checkpoint_info: dict | None = None, checkpoint_arrays: dict | None = None,
        augment=None) -> History:
    """Train ``model`` for ``epochs`` epochs (in total: a resumed run continues up to it).

    optimizer: name or Optimizer (``lr`` overrides its rate); ``l2``: model-wide lambda of
    the L2 penalty (per-layer ``l2`` attributes apply too); callbacks: Callback objects (a
    NaNGuard is added unless one is given); resume: a checkpoint path (or loaded Checkpoint)
    to continue from exactly — parameters, buffers, optimiser and RNG state, epoch, history
    and callback state; verbose=False silences output, ``progress`` forces the bar on/off;
    checkpoint_info / checkpoint_arrays: JSON metadata / arrays stored in every checkpoint
    written by this run (e.g. how the data was prepared); augment: a callable applied to
    every training batch on the device (see ``dlx.data.augment``). Returns the History.
    """
    from dlx.nn.l2 import l2_penalty, regularized_parameters

    if int(epochs) < 0:
        raise ConfigError(f"fit: epochs must be >= 0, got {epochs}")
    backend = backends.current()
    X, y = as_xy(train, "train")
    dtype = model_dtype(model)
    batches = MiniBatches(X, y, batch_size=batch_size, shuffle=shuffle, dtype=dtype)
    dev_batches = None if dev is None else MiniBatches(
        *as_xy(dev, "dev"), batch_size=eval_batch_size, shuffle=False, dtype=dtype)
    loss_fn = resolve_loss(loss)
    opt = make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr)
    callbacks = list(callbacks)
    if not any(isinstance(cb, NaNGuard) for cb in callbacks):
        callbacks.append(NaNGuard())
    trainer = Trainer(model, opt, callbacks, int(epochs), checkpoint_info, checkpoint_arrays)
    if resume is not None:
        ckpt = resume if isinstance(resume, Checkpoint) else load_checkpoint(resume)
        if ckpt.meta.get("optimizer") is None:
            raise CheckpointError(f"{ckpt.path}: holds no optimiser state; cannot resume")
        trainer.resume_from(ckpt)
    regularized = bool(regularized_parameters(model, l2))
    report = Progress(trainer.epochs, batches.m, progress=progress, quiet=not verbose,
                      log_file=log_file)
    xp = backend.xp

    for cb in trainer.callbacks:
        cb.on_train_begin(trainer)
    try:
        while trainer.epoch < trainer.epochs and not trainer.stop_training:
            for cb in trainer.callbacks:
                cb.on_epoch_begin(trainer)
            report.start_epoch(trainer.epoch + 1)
            start = time.perf_counter()
            model.train()
            acc = _Accumulator()
            for xb, yb in batches:
                out = model(Tensor(xb if augment is None else augment(xb)))
                cost = loss_fn(out, yb)
                if regularized:
                    cost = cost + l2_penalty(model, l2, yb.shape[0])
                opt.zero_grad()
                cost.backward()
                opt.step()
                acc.add(xp, cost, out, yb)
                report.advance(yb.shape[0])
                for cb in trainer.callbacks:
                    cb.on_batch_end(trainer)
            record = {"epoch": trainer.epoch + 1, **acc.read(), "lr": opt.lr}
            train_time = time.perf_counter() - start
            if dev_batches is not None:
                dev_result = _evaluate_batches(model, dev_batches, loss_fn)
                record.update({f"dev_{k}": v for k, v in dev_result.items()})
            record["time"] = time.perf_counter() - start
            record["samples_per_s"] = batches.m / train_time if train_time > 0 else None
            trainer.epoch += 1
            trainer.history.append(record)
            report.end_epoch(record)
            for cb in trainer.callbacks:
                cb.on_epoch_end(trainer, record)
    finally:
        report.close()
    for cb in trainer.callbacks:
        cb.on_train_end(trainer)
    return trainer.history
