"""Missing labels given as a mask: ``fit(model, (X, Y, mask), loss=F.multi_task_cross_entropy)``.

A multi-task data set marks the course's "?" entries either as NaN in Y or with a boolean
mask (True = labelled) beside Y. ``fit`` and ``evaluate`` fold the mask into Y once, before
batching::

    Y_folded = where(mask, Y, NaN)          (m, T), the model's float dtype

so the mask is shuffled, batched and sharded over data-parallel ranks with Y, in the same
permutation, with no second array to keep aligned, and a run with the mask is the run with
the NaN form — the same losses, gradients and parameters. Only a loss that takes NaN as a
missing label (``missing_targets_are_nan``) accepts a mask; the mask must be boolean and of
Y's exact shape (no broadcasting).
"""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError
from dlx.functional.multitask import check_mask


def fold_mask(name: str, y, mask, loss, dtype):
    """``y`` as ``dtype`` with NaN where ``mask`` is False (see the module docstring)."""
    if not getattr(loss, "missing_targets_are_nan", False):
        shown = getattr(loss, "__name__", None) or repr(loss)
        raise ConfigError(f"{name}: a mask of labelled entries needs a loss that skips "
                          f"missing labels (such as F.multi_task_cross_entropy), got loss "
                          f"{shown}")
    mask = backends.current().asarray(mask)  # host arrays and lists onto the device
    check_mask(name, mask, y.shape)
    xp = backends.backend_of(y).xp
    return xp.where(mask, y.astype(dtype), xp.nan).astype(dtype)
