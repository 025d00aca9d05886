"""What a model's outputs mean and what its targets are: decided once per data set.

``Task.for_data(model, X, y, loss)`` runs the model on one example to learn its output shape,
reads what its last layer emits (logits, or probabilities after a final sigmoid/softmax),
checks the whole data set on the device -- X finite; y of a shape that fits the output;
labels in range -- with one small host read, and returns the targets in one canonical form:

=====================  ==========================  ==========================================
output                 targets accepted            canonical targets, loss for "auto"
=====================  ==========================  ==========================================
(m, K), K > 1          (m,) or (m, 1) labels       (m,) int64 in [0, K); softmax CE
(m, K), K > 1          (m, K) one-hot              (m,) int64 (argmax); softmax CE
(m, 1) or (m,)         (m,) or (m, 1) 0/1 labels   output's shape, float; binary CE
any                    float targets, not labels   output's shape, float; mean squared error
=====================  ==========================  ==========================================

A callable loss with the attribute ``checks_target_shape = True`` (such as
``dlx.vision.yolo.DetectionLoss``, whose targets are laid out per grid cell while the
network's outputs are per channel) takes float targets of any per-example shape: it refuses
shapes that do not fit its outputs itself; ``fit`` still checks that they are finite.
A callable loss with the attribute ``missing_targets_are_nan = True`` (such as
``F.multi_task_cross_entropy``) takes NaN targets as missing labels; infinities are still
refused. One that also has ``multi_task = True`` (T sigmoid outputs, (m, T) 0/1 targets
with NaN where missing) reports the accuracy over labelled entries and per task
(``task{j}_accuracy``: task j's labelled entries only).

Float targets count as labels for ``loss="auto"`` when every value is a whole class index
(0/1 for one output, one-hot rows for K outputs); pass ``loss="mse"`` to regress on them.
With an explicit loss the targets follow that loss: ``"binary_cross_entropy"`` also takes
soft labels in [0, 1], ``"softmax_cross_entropy"`` probability rows (accuracy is then not
reported). A model whose last layer is a sigmoid/softmax outputs probabilities: the
classification losses take the probability form, ``predict`` thresholds at 0.5.
Every batch of the run then uses these targets inside ``trusted_targets`` (no per-batch
host synchronisation).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlx import backends
from dlx import functional as F
from dlx.core import Tensor, no_grad
from dlx.errors import ConfigError, DataError, LabelError, ShapeError
from dlx.functional import targets as T

CLASSIFICATION_LOSSES = ("softmax_cross_entropy", "binary_cross_entropy")


def output_activation(model) -> str | None:
    """"sigmoid" or "softmax" when the model's last layer applies one, else None (logits).

    A module may declare it with an ``output_activation`` attribute; otherwise the last
    layer of (nested) Sequentials is asked for its ``activation`` name."""
    declared = getattr(model, "output_activation", None)
    if declared is not None:
        return declared
    last = model
    while hasattr(last, "layers") and len(last.layers):
        last = last.layers[-1]
    name = getattr(last, "activation", None)
    return name if name in ("sigmoid", "softmax") else None


def probe_output_shape(model, X) -> tuple:
    """The output shape of the model on the first example (evaluation mode, no graph)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return tuple(model(Tensor(X[:1])).shape)
    finally:
        model.train(was_training)


def check_finite_rows(name: str, X, checks: T.Checks | None = None) -> None:
    """DataError naming the first rows of X that hold NaN or infinity (one host read, or
    added to ``checks`` to be read with others)."""
    if X.dtype.kind != "f":
        return
    run = checks is None
    checks = T.Checks() if run else checks
    xp = backends.backend_of(X).xp
    m = X.shape[0]
    checks.add(~xp.isfinite(X.reshape(m, -1)).all(axis=1),
               lambda rows: f"{name}: X holds NaN or infinite values in {rows} (of {m}); "
                            "clean or drop them before training, evaluating or predicting",
               error=DataError)
    if run:
        checks.run()


@dataclass
class Task:
    """The decided kind of targets and output for one model and loss."""

    kind: str              # "labels" (class indices), "binary", "multi_task", "soft" or
    #                        "regression"
    output: str            # "logits" or "probabilities"
    n_outputs: int         # K (1 for a single output)
    loss: object           # callable(outputs: Tensor, targets: device array) -> 0-d Tensor

    @property
    def reports_accuracy(self) -> bool:
        return self.kind in ("labels", "binary", "multi_task")

    def n_correct(self, xp, out, y):
        """Correct predictions in a batch, a device 0-d array (None when not classifying);
        for multi-task targets a (T,) array: the labelled entries of each task predicted."""
        if not self.reports_accuracy:
            return None
        if self.kind == "labels":
            return (xp.argmax(out, axis=1) == y).sum()
        threshold = 0.5 if self.output == "probabilities" else 0.0
        if self.kind == "multi_task":
            return (((out > threshold) == (y > 0.5)) & ~xp.isnan(y)).sum(axis=0)
        return ((out > threshold) == (y > 0.5)).sum()

    def n_counted(self, xp, y):
        """What accuracy divides by, when not the examples: the (T,) labelled entries per
        task of multi-task targets (None otherwise)."""
        return (~xp.isnan(y)).sum(axis=0) if self.kind == "multi_task" else None


def _loss_for(kind: str, output: str, loss):
    if callable(loss):
        return loss
    if loss == "mse" or kind == "regression":
        return F.mean_squared_error
    if kind in ("labels", "soft") and loss in ("auto", "softmax_cross_entropy"):
        return F.cross_entropy if output == "probabilities" else F.softmax_cross_entropy
    if kind == "binary" and loss in ("auto", "binary_cross_entropy"):
        return F.binary_cross_entropy if output == "probabilities" \
            else F.binary_cross_entropy_with_logits
    raise ConfigError(f"loss {loss!r} does not fit {kind} targets for this model's output")


def _one_hot(y) -> bool:
    return bool(backends.backend_of(y).to_host(
        (((y == 0) | (y == 1)).all(axis=1) & (y.sum(axis=1) == 1)).all()))


def _whole(xp, y) -> bool:
    return bool(backends.backend_of(y).to_host(((y == xp.round(y)) | ~xp.isfinite(y)).all()))


def prepare(name: str, model, X, y, loss="auto"):
    """(Task, canonical targets): checks X and y once (see the module docstring)."""
    xp = backends.current().xp
    if loss not in ("auto", "mse") + CLASSIFICATION_LOSSES and not callable(loss):
        raise ConfigError(f"unknown loss {loss!r}; expected auto, mse, "
                          f"{', '.join(CLASSIFICATION_LOSSES)} or a callable(outputs, y)")
    if y.ndim == 0:
        raise ShapeError(f"{name}: y must have one entry per example, got a scalar")
    checks = T.Checks()  # X's and y's row checks, read back together
    check_finite_rows(name, X, checks)
    out_shape = probe_output_shape(model, X)
    k = out_shape[1] if len(out_shape) == 2 else 1
    output = "probabilities" if output_activation(model) else "logits"
    if y.dtype.kind == "f":
        if getattr(loss, "missing_targets_are_nan", False):  # NaN marks a missing label
            bad, what = xp.isinf(y.reshape(y.shape[0], -1)).any(axis=1), "infinite values"
        else:
            bad, what = ~xp.isfinite(y.reshape(y.shape[0], -1)).all(axis=1), \
                "NaN or infinite values"
        checks.add(bad, lambda rows: f"{name}: y holds {what} in {rows}", error=DataError)
        checks.run()
    if getattr(loss, "multi_task", False):
        return _multi_task(name, y, out_shape, output, loss, model.dtype)
    if getattr(loss, "checks_target_shape", False):
        checks.run()
        return Task("regression", output, k, loss), y.astype(model.dtype)
    is_int = y.dtype.kind in "biu"
    if k > 1 and loss not in ("mse", "binary_cross_entropy"):
        found = _multiclass(name, y, k, output, loss, checks, model.dtype)
        if found is not None:
            return found
    targets = _output_shaped(name, y, out_shape)
    if k == 1 and loss != "mse" and (is_int or loss == "binary_cross_entropy"
                                     or _whole(xp, targets)):
        return _binary(name, targets.astype(model.dtype), is_int, output, loss, checks)
    checks.run()
    if loss in CLASSIFICATION_LOSSES:
        raise LabelError(f"{name}: loss {loss!r} needs class labels, got {y.dtype} targets "
                         f"of shape {tuple(y.shape)} for outputs of shape (m, "
                         f"{', '.join(map(str, out_shape[1:]))})")
    return Task("regression", output, k, _loss_for("regression", output, loss)), \
        targets.astype(model.dtype)


def _multiclass(name, y, k, output, loss, checks, dtype):
    """(Task, targets) for K > 1 outputs when y holds class labels, one-hot rows or (with
    loss="softmax_cross_entropy") probability rows; None when y is regression targets."""
    xp = backends.backend_of(y).xp
    is_int = y.dtype.kind in "biu"
    rows = y.ndim == 2 and y.shape[1] == k
    if (rows and (is_int or _one_hot(y))) or (not rows and (is_int or _whole(xp, y))):
        labels = _labels_from(name, y, k, xp, loss, checks)
        checks.run()
        return Task("labels", output, k, _loss_for("labels", output, loss)), labels
    if rows and loss == "softmax_cross_entropy":
        checks.run()
        T.check_distributions(name, y)
        return Task("soft", output, k, _loss_for("soft", output, loss)), y.astype(dtype)
    return None


def _multi_task(name, y, out_shape, output, loss, dtype):
    """(Task, targets) for T sigmoid outputs: (m, T) labels 0/1, NaN where missing."""
    if len(out_shape) != 2 or tuple(y.shape) != (y.shape[0], out_shape[1]):
        raise ShapeError(f"{name}: multi-task targets must be (m, T) like the outputs (m, "
                         f"{', '.join(map(str, out_shape[1:]))}), got {tuple(y.shape)}")
    targets = y.astype(dtype)
    T.refuse_where(name, (targets != 0) & (targets != 1) & ~backends.backend_of(y).xp.isnan(
        targets), targets, "multi-task labels must be 0, 1, or NaN (missing)")
    return Task("multi_task", output, out_shape[1], loss), targets


def _binary(name, targets, is_int, output, loss, checks):
    """(Task, targets) for one output: 0/1 labels, or soft labels with an explicit BCE."""
    if loss == "binary_cross_entropy" and not is_int:
        checks.run()
        T.check_binary_targets(name, targets)
        hard = _whole(backends.backend_of(targets).xp, targets)
    else:
        checks.add((targets != 0) & (targets != 1),
                   lambda rows: f"{name}: a binary model (one output) needs labels 0 or 1 "
                                f"(for K classes, give the model K outputs); {rows}",
                   values=targets)
        checks.run()
        hard = True
    return Task("binary" if hard else "soft", output, 1,
                _loss_for("binary", output, loss)), targets


def _labels_from(name, y, k, xp, loss, checks):
    """(m,) int64 class indices from (m,)/(m, 1) labels or (m, K) one-hot rows; their row
    checks are added to ``checks``."""
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        labels = y.reshape(-1).astype(xp.int64)
        checks.add((labels < 0) | (labels >= k),
                   lambda rows: f"{name}: labels must be integers in [0, K) = [0, {k}) for a "
                                f"model with {k} outputs; {rows}", values=y)
        return labels
    if y.ndim == 2 and y.shape[1] == k:
        one_hot = ((y == 0) | (y == 1)).all(axis=1) & (y.sum(axis=1) == 1)
        hint = " or pass loss='softmax_cross_entropy' for probability rows" \
            if loss == "auto" else ""
        checks.add(~one_hot, lambda rows: f"{name}: (m, {k}) targets must be one-hot rows (a "
                                          f"single 1 per row){hint}; {rows}", values=y)
        return xp.argmax(y, axis=1).astype(xp.int64)
    raise ShapeError(f"{name}: targets of shape {tuple(y.shape)} do not fit outputs of shape "
                     f"(m, {k}); expected (m,) or (m, 1) labels or (m, {k}) one-hot rows")


def _output_shaped(name, y, out_shape):
    """y reshaped to the output's per-example shape (only a trailing 1 may differ)."""
    want = (y.shape[0],) + tuple(out_shape[1:])
    if tuple(y.shape) == want:
        return y
    if tuple(y.shape) + (1,) == want or tuple(y.shape) == want + (1,):
        return y.reshape(want)
    raise ShapeError(f"{name}: targets of shape {tuple(y.shape)} do not fit outputs of shape "
                     f"(m, {', '.join(map(str, out_shape[1:]))}) (only a trailing axis of 1 "
                     "may differ; dlx never broadcasts targets against outputs)")
