"""Gradient clipping, the course's remedy for exploding gradients (RNNs especially).

* by global norm: with N = sqrt(sum over all parameters of ||dW||^2), every gradient is
  scaled by min(1, max_norm / (N + 1e-6)) -- the direction is kept (Pascanu et al. 2013);
* by value: every element is clipped to [-value, value].

Both run on the device without a host synchronisation and replace ``p.grad`` with a new
array (gradients may alias other arrays, so they are never written in place). Use them
directly between ``backward()`` and ``step()``, or as an optimiser option with
:func:`with_clipping` (``dlx.train.fit`` then clips every step). A row-sparse gradient
(``Embedding(sparse=True)``) is clipped on its stored rows, which gives the dense result:
its other rows are zero.
"""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError
from dlx.sparse_grad import RowSparseGrad


def _positive(where: str, value) -> float:
    value = float(value)
    if not value > 0:
        raise ConfigError(f"{where}: the threshold must be > 0, got {value}")
    return value


def clip_grad_norm(params, max_norm: float):
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm before clipping as a 0-d device array (read it with ``float()``)."""
    max_norm = _positive("clip_grad_norm", max_norm)
    params = [p for p in params if p.grad is not None]
    if not params:
        return None
    xp = backends.backend_of(_values(params[0].grad)).xp
    total = xp.sqrt(sum((_values(p.grad).astype(xp.float64) ** 2).sum() for p in params))
    scale = xp.minimum(1.0, max_norm / (total + 1e-6))
    for p in params:
        p.grad = _replaced(p.grad, _values(p.grad) * scale.astype(p.grad.dtype))
    return total


def clip_grad_value(params, value: float) -> None:
    """Clip every gradient element to [-value, value]."""
    value = _positive("clip_grad_value", value)
    for p in params:
        if p.grad is not None:
            values = _values(p.grad)
            p.grad = _replaced(p.grad, backends.backend_of(values).xp.clip(values, -value, value))


def _values(grad):
    """The stored numbers of a gradient: the array, or a row-sparse one's rows."""
    return grad.values if isinstance(grad, RowSparseGrad) else grad


def _replaced(grad, values):
    return grad.with_values(values) if isinstance(grad, RowSparseGrad) else values


def with_clipping(optimizer, max_norm: float | None = None, value: float | None = None):
    """Make ``optimizer`` clip before every step (by value first, then by global norm);
    returns it. ``None`` leaves that kind of clipping off."""
    optimizer.clip_value = None if value is None else _positive("with_clipping", value)
    optimizer.clip_norm = None if max_norm is None else _positive("with_clipping", max_norm)
    return optimizer
