"""Checks every loss applies to its targets: matching shapes, valid labels, finite values.

Shapes: targets must have the prediction's shape; the only reshape allowed is a trailing
axis of length 1 on either side ((m,) against (m, 1) or the reverse). Anything else -- above
all (m, 1) against (m,) broadcast to (m, m) -- is a ShapeError.

Values (range, integrality, finiteness) need one reduction on the device and one scalar read
back to the host. A loss called on its own checks them on every call; the training loop
checks each data set once (``dlx.train.targets``) and runs its batches inside
:func:`trusted_targets`, so training adds no host synchronisation per batch.
"""

from __future__ import annotations

import contextlib

from dlx import backends
from dlx.core import Tensor, as_tensor
from dlx.errors import LabelError, ShapeError

_checks_enabled = [True]
#: how many offending rows a message lists
SHOWN_ROWS = 5


@contextlib.contextmanager
def trusted_targets():
    """Context manager: losses skip their value checks (the caller validated the data set)."""
    previous, _checks_enabled[0] = _checks_enabled[0], False
    try:
        yield
    finally:
        _checks_enabled[0] = previous


def value_checks_enabled() -> bool:
    return _checks_enabled[0]


def check_nonempty(name: str, shape) -> None:
    if len(shape) == 0:
        raise ShapeError(f"{name}: predictions must have a batch axis (m, ...), got a scalar")
    if shape[0] == 0:
        raise ShapeError(f"{name}: the batch is empty (m = 0); a mean over no examples is "
                         "undefined")


def match_shape(name: str, pred: Tensor, y) -> Tensor:
    """``y`` as a tensor of ``pred``'s shape and dtype (a trailing 1 may be squeezed/added)."""
    y = as_tensor(y, like=pred) if not isinstance(y, Tensor) else y
    if y.dtype != pred.dtype:
        y = Tensor(y.data.astype(pred.dtype))
    if y.shape == pred.shape:
        return y
    if y.shape + (1,) == pred.shape or y.shape == pred.shape + (1,):
        return Tensor(y.data.reshape(pred.shape))
    raise ShapeError(f"{name}: targets of shape {y.shape} do not match predictions of shape "
                     f"{pred.shape} (only a trailing axis of 1 may differ; dlx never "
                     "broadcasts targets against outputs)")


def bad_rows(bad) -> list[int]:
    """Indices of the first rows (axis 0) where the boolean device array ``bad`` is set."""
    xp = backends.backend_of(bad).xp
    rows = bad.reshape(bad.shape[0], -1).any(axis=1) if bad.ndim > 1 else bad
    found = xp.flatnonzero(rows)[:SHOWN_ROWS]
    return [int(i) for i in backends.backend_of(bad).to_host(found)]


def describe_rows(values, rows: list[int]) -> str:
    """"rows [1, 4] hold 3, -1" for the given rows of ``values`` (one host read)."""
    backend = backends.backend_of(values)
    host = backend.to_host(values[backend.xp.asarray(rows)]) if rows else []
    shown = ", ".join(_short(v) for v in host)
    return f"rows {rows} hold {shown}"


def _short(value) -> str:
    flat = getattr(value, "ravel", lambda: [value])()
    items = [f"{float(v):g}" for v in list(flat)[:4]]
    text = items[0] if len(items) == 1 else "[" + " ".join(items) + (" ...]" if len(flat) > 4
                                                                     else "]")
    return text


class Checks:
    """Row checks gathered on the device and read back together: ``run()`` makes one host
    read (a small vector of flags) and raises the first failing check's error."""

    def __init__(self):
        self.items = []

    def add(self, bad, message, error=LabelError, values=None) -> None:
        """``bad``: boolean device array (rows on axis 0); ``message(rows_text)`` builds the
        error text from the offending rows (described with ``values`` when given)."""
        self.items.append((bad, message, error, values))

    def run(self) -> None:
        if not self.items:
            return
        items, self.items = self.items, []
        backend = backends.backend_of(items[0][0])
        flags = backend.to_host(backend.xp.stack([bad.any() for bad, *_ in items]))
        for (bad, message, error, values), failed in zip(items, flags):
            if failed:
                rows = bad_rows(bad)
                text = f"rows {rows}" if values is None else describe_rows(values, rows)
                raise error(message(text))


def refuse_where(name: str, bad, values, expected: str) -> None:
    """Raise LabelError naming the first rows where ``bad`` holds (one scalar host read)."""
    checks = Checks()
    checks.add(bad, lambda rows: f"{name}: {expected}; {rows}", values=values)
    checks.run()


def check_binary_targets(name: str, y) -> None:
    """Binary targets: 0/1 labels or soft labels in [0, 1] (NaN refused)."""
    if value_checks_enabled():
        refuse_where(name, ~((y >= 0) & (y <= 1)), y,
                     "targets must lie in [0, 1] (0/1 labels, or soft labels between)")


def check_probabilities(name: str, a, logit_loss: str) -> None:
    """Predicted probabilities must lie in [0, 1] (NaN refused); ``logit_loss`` is the loss
    the message recommends for logits."""
    if value_checks_enabled():
        refuse_where(name, ~((a >= 0) & (a <= 1)), a,
                     f"predictions must be probabilities in [0, 1] (for logits use "
                     f"{logit_loss})")


def check_finite(name: str, values, what: str = "targets") -> None:
    if value_checks_enabled() and values.dtype.kind == "f":
        xp = backends.backend_of(values).xp
        refuse_where(name, ~xp.isfinite(values), values, f"{what} must be finite numbers")


def check_class_labels(name: str, labels, k: int, ignore_index=None) -> None:
    """Integer labels in [0, K), or equal to ``ignore_index`` when one is given."""
    if not value_checks_enabled():
        return
    bad = (labels < 0) | (labels >= k)
    if ignore_index is not None:
        bad &= labels != ignore_index
    hint = "" if ignore_index is not None else \
        " (to leave rows out of the loss, pass ignore_index= explicitly)"
    refuse_where(name, bad, labels, f"labels must be integers in [0, K) = [0, {k}){hint}")


def check_distributions(name: str, targets, atol: float = 1e-4) -> None:
    """(m, K) targets: each row non-negative, finite and summing to 1 (one-hot or soft)."""
    if not value_checks_enabled():
        return
    xp = backends.backend_of(targets).xp
    bad = ~xp.isfinite(targets).all(axis=1) | (targets < 0).any(axis=1) | \
        (xp.abs(targets.sum(axis=1) - 1) > atol)
    refuse_where(name, bad, targets, "(m, K) targets must be one-hot or probability rows "
                                     "(non-negative, summing to 1)")
