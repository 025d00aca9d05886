"""The training loop: ``fit``, ``evaluate``, ``predict`` and ``predict_proba``.

One epoch of ``fit``::

    for X_b, y_b in MiniBatches(X, y, batch_size):      # shuffled with the backend's RNG
        J = loss(model(X_b), y_b) [+ L2 penalty]           # forward
        optimizer.zero_grad(); J.backward(); optimizer.step()
        cost_sum += J * m_b                                # on the device: no host sync

and once per epoch (the logging interval) ``cost = cost_sum / m`` and the accuracy are read
back to the host, the dev set is evaluated, the record goes into the History and the
callbacks run. ``train``/``dev`` are ``(X, y)`` pairs of host or device arrays, or objects
with ``X`` and ``y`` attributes; ``(X, y, mask)`` gives a boolean (m, T) mask of the labelled
entries for a loss that skips missing labels (``F.multi_task_cross_entropy``): the mask is
folded into y once (NaN where False, see :mod:`dlx.train.target_mask`), so it is batched,
shuffled and sharded with y exactly as the NaN form is.

Each data set is checked once before the loop (X finite, targets that fit the model's
output, labels in range; see :mod:`dlx.train.targets`), which also decides the loss for
``loss="auto"``: class labels (m,)/(m, 1) or one-hot rows and (m, K>1) outputs -> softmax
cross-entropy; 0/1 labels and one output -> binary cross-entropy; other float targets ->
mean squared error. Models output logits, or probabilities when their last layer is a
sigmoid/softmax (then the probability form of the loss is used).
"""

from __future__ import annotations

import time
import warnings

from dlx import backends
from dlx.core import Tensor, no_grad
from dlx.data.batches import MiniBatches
from dlx.errors import CheckpointError, ConfigError, ShapeError
from dlx.functional.targets import trusted_targets
from dlx.optim import Adam, GradientDescent, Momentum, Optimizer, RMSprop
from dlx.train.callbacks import NaNGuard
from dlx.train.checkpoint import Checkpoint, load_checkpoint, restore, save_checkpoint
from dlx.train.history import History
from dlx.train.progress import Progress
from dlx.train.targets import check_finite_rows, output_activation
from dlx.train.targets import prepare as prepare_targets

OPTIMIZERS = {"gd": GradientDescent, "sgd": GradientDescent, "momentum": Momentum,
              "rmsprop": RMSprop, "adam": Adam}
DEFAULT_LR = {"gd": 0.1, "sgd": 0.1, "momentum": 0.1, "rmsprop": 0.001, "adam": 0.001}


# -- inputs ------------------------------------------------------------------------------------
def as_data(data, name: str = "data"):
    """``(X, y, mask)`` from a pair (mask None), an ``(X, y, mask)`` triple, or an object with
    ``X`` and ``y`` (and optionally ``mask``) attributes."""
    if isinstance(data, (tuple, list)) and len(data) in (2, 3):
        X, y, mask = (*data, None)[:3]
    elif hasattr(data, "X") and hasattr(data, "y"):
        X, y, mask = data.X, data.y, getattr(data, "mask", None)
    else:
        raise ConfigError(f"{name} must be an (X, y) pair, an (X, y, mask) triple or have X and "
                          f"y attributes, got {type(data).__name__}")
    if len(X) != len(y):
        raise ShapeError(f"{name}: X has {len(X)} examples but y has {len(y)}")
    return X, y, mask


def as_xy(data, name: str = "data"):
    """``(X, y)`` from a pair or from an object with ``X`` and ``y`` attributes."""
    X, y, mask = as_data(data, name)
    if mask is not None:
        raise ConfigError(f"{name}: takes (X, y) data, without a mask")
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
#: loss names fit/evaluate accept; the loss itself is decided per data set (dlx.train.targets)
LOSSES = ("auto", "softmax_cross_entropy", "binary_cross_entropy", "mse")


def _to_float(value) -> float | None:
    if value is None:
        return None
    return float(backends.backend_of(value).to_host(value))


class _Accumulator:
    """Sums of cost*m_b and correct predictions (per task for multi-task targets, with the
    labelled entries they are out of) kept on the device until read."""

    def __init__(self, task):
        self.task = task
        self.cost, self.correct, self.counted, self.m = 0.0, None, None, 0

    def add(self, xp, loss, out, y):
        n = y.shape[0]
        self.cost = self.cost + loss.data * n
        correct = self.task.n_correct(xp, out.data, y)
        if correct is not None:
            self.correct = correct if self.correct is None else self.correct + correct
        counted = self.task.n_counted(xp, y)
        if counted is not None:
            self.counted = counted if self.counted is None else self.counted + counted
        self.m += n

    def sums(self) -> list:
        """[cost*m, m, correct..., counted...] as host floats (one read each): what the
        ranks of a data-parallel run add up before :meth:`means`."""
        flat = [_to_float(self.cost), float(self.m)]
        for total in (self.correct, self.counted):
            if total is not None:
                flat += [float(v) for v in backends.backend_of(total).to_host(total).reshape(-1)]
        return flat

    def means(self, sums: list) -> dict:
        """The record of :meth:`sums` (this accumulator's or summed over ranks)."""
        cost, m, rest = sums[0], sums[1], sums[2:]
        record = {"cost": cost / m, "accuracy": None}
        if self.correct is None:
            return record
        if self.counted is None:
            record["accuracy"] = rest[0] / m
            return record
        tasks = len(rest) // 2
        correct, counted = rest[:tasks], rest[tasks:]
        record["accuracy"] = sum(correct) / sum(counted) if sum(counted) else None
        for j in range(tasks):
            record[f"task{j}_accuracy"] = correct[j] / counted[j] if counted[j] else None
        return record

    def read(self) -> dict:
        return self.means(self.sums())


def _checked_batches(name, model, data, loss, batch_size, shuffle):
    """(Task, MiniBatches) of ``data``, checked once on the device (dlx.train.targets)."""
    from dlx.train.target_mask import fold_mask

    backend = backends.current()
    X, y, mask = as_data(data, name)
    X, y = backend.asarray(X), backend.asarray(y)
    if mask is not None:
        y = fold_mask(name, y, mask, loss, model_dtype(model))
    if X.dtype.kind == "f":
        X = X.astype(model_dtype(model), copy=False)
    if X.shape[0] == 0:
        raise ShapeError(f"{name}: the data set is empty (0 examples)")
    task, y = prepare_targets(name, model, X, y, loss)
    return task, MiniBatches(X, y, batch_size=batch_size, shuffle=shuffle,
                             dtype=model_dtype(model))


# -- evaluation and prediction ------------------------------------------------------------------
def _evaluate_batches(model, batches, task) -> _Accumulator:
    """The sums of one pass over ``batches`` in evaluation mode (``.read()`` for the means)."""
    xp = backends.current().xp
    acc = _Accumulator(task)
    was_training = model.training
    model.eval()
    try:
        with no_grad(), trusted_targets():
            for xb, yb in batches:
                out = model(Tensor(xb))
                acc.add(xp, task.loss(out, yb), out, yb)
    finally:
        model.train(was_training)
    return acc


def evaluate(model, data, batch_size: int = 256, loss="auto") -> dict:
    """``{"cost": J, "accuracy": a}`` of ``model`` on ``data`` in evaluation mode (accuracy is
    None for regression targets; multi-task targets add ``task{j}_accuracy``). The cost is
    the data loss (no L2 term). X and y are checked once (finite, fitting targets; see
    dlx.train.targets)."""
    task, batches = _checked_batches("evaluate", model, data, loss, batch_size, False)
    return _evaluate_batches(model, batches, task).read()


def _outputs(model, X, batch_size: int, transform, name: str):
    """``transform(outputs)`` over X in evaluation mode, concatenated on the device."""
    backend = backends.current()
    X = backend.asarray(X)
    if X.ndim == 0 or X.shape[0] == 0:
        raise ShapeError(f"{name}: X has no examples (shape {tuple(X.shape)})")
    check_finite_rows(name, X)
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


def _probabilities(xp, z, from_logits: bool = True):
    if z.ndim == 2 and z.shape[1] > 1:
        if not from_logits:
            return z
        e = xp.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    p = 1.0 / (1.0 + xp.exp(-z.reshape(-1, 1))) if from_logits else z.reshape(-1, 1)
    return xp.concatenate([1.0 - p, p], axis=1)


def predict_proba(model, X, batch_size: int = 256):
    """Class probabilities, host array (m, K): softmax of the logits (for one logit, the
    columns are [1 - sigmoid(z), sigmoid(z)]); a model ending in softmax/sigmoid already
    outputs them. X is checked once for NaN/infinite rows."""
    from_logits = output_activation(model) is None
    return _outputs(model, X, batch_size,
                    lambda xp, z: _probabilities(xp, z, from_logits), "predict_proba")


def predict(model, X, batch_size: int = 256):
    """Predicted class labels, host int64 array (m,): argmax over K outputs; for one output
    1 where the logit is > 0 (the probability > 0.5 for a model ending in a sigmoid)."""
    threshold = 0.0 if output_activation(model) is None else 0.5

    def labels(xp, z):
        if z.ndim == 2 and z.shape[1] > 1:
            return xp.argmax(z, axis=1).astype(xp.int64)
        return (z.reshape(-1) > threshold).astype(xp.int64)

    return _outputs(model, X, batch_size, labels, "predict")


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
        self.writer = True  # False on data-parallel ranks other than 0: they write no files

    @property
    def step(self) -> int:
        """Optimiser updates taken so far (mini-batches seen)."""
        return self.optimizer.t

    def save(self, path):
        """Write a full checkpoint (model, optimiser, RNG, epoch, history, callbacks)."""
        if not self.writer:
            return None
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
        distributed: bool = False, augment=None) -> History:
    """Train ``model`` for ``epochs`` epochs (in total: a resumed run continues up to it).

    optimizer: name or Optimizer (``lr`` overrides its rate); ``l2``: model-wide lambda of
    the L2 penalty (per-layer ``l2`` attributes apply too); callbacks: Callback objects (a
    NaNGuard is added unless one is given); resume: a checkpoint path (or loaded Checkpoint)
    to continue from exactly — parameters, buffers, optimiser and RNG state, epoch, history
    and callback state; verbose=False silences output, ``progress`` forces the bar on/off;
    checkpoint_info / checkpoint_arrays: JSON metadata / arrays stored in every checkpoint
    written by this run (e.g. how the data was prepared); distributed: data-parallel over
    the ranks of ``mpiexec`` (see :mod:`dlx.distributed`); augment: a callable applied to
    every training batch on the device (see ``dlx.data.augment``). Returns the History.
    """
    from dlx.nn.l2 import l2_penalty, regularized_parameters

    if int(epochs) < 0:
        raise ConfigError(f"fit: epochs must be >= 0, got {epochs}")
    backend = backends.current()
    task, batches = _checked_batches("train", model, train, loss, batch_size, shuffle)
    dev_task, dev_batches = (None, None) if dev is None else _checked_batches(
        "dev", model, dev, loss, eval_batch_size, False)
    loss_fn = task.loss
    opt = make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr)
    callbacks = list(callbacks)
    if not any(isinstance(cb, NaNGuard) for cb in callbacks):
        callbacks.append(NaNGuard())
    trainer = Trainer(model, opt, callbacks, int(epochs), checkpoint_info, checkpoint_arrays)
    if resume is not None:
        ckpt = resume if isinstance(resume, Checkpoint) else load_checkpoint(resume, model, opt)
        if ckpt.meta.get("optimizer") is None:
            raise CheckpointError(f"{ckpt.path}: holds no optimiser state; cannot resume")
        trainer.resume_from(ckpt)
    dp = None
    if distributed:  # rank 0 writes; batches are sharded; see dlx.distributed.data_parallel
        from dlx.distributed import DataParallel
        dp = DataParallel(model, opt, trainer)
        batches, dev_batches = dp.shard(batches), dp.shard_eval(dev_batches)
        verbose, log_file = verbose and dp.is_writer, log_file if dp.is_writer else None
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
            acc = _Accumulator(task)
            for xb, yb in batches:
                out = model(Tensor(xb if augment is None else augment(xb)))
                with trusted_targets():
                    cost = loss_fn(out, yb)
                if regularized:
                    cost = cost + l2_penalty(model, l2, yb.shape[0] if dp is None else dp.batch_m)
                opt.zero_grad()
                cost.backward()
                if dp is not None:
                    dp.allreduce_gradients()
                opt.step()
                acc.add(xp, cost, out, yb)
                report.advance(yb.shape[0] if dp is None else dp.batch_m)
                for cb in trainer.callbacks:
                    cb.on_batch_end(trainer)
            record = {"epoch": trainer.epoch + 1, **(acc.read() if dp is None else dp.read(acc)),
                      "lr": opt.lr}
            train_time = time.perf_counter() - start
            if dp is not None:
                dp.end_epoch()
            if dev_batches is not None:
                dev_acc = _evaluate_batches(model, dev_batches, dev_task)
                dev_result = dev_acc.read() if dp is None else dp.read(dev_acc)
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
