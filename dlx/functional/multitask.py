"""Multi-task learning (course 3): T sigmoid outputs per example, some labels missing.

    J = (1/m) sum_i sum_{j labelled} L(z_ij, y_ij),
    L(z, y) = max(z, 0) - z y + log(1 + e^-|z|)       (logistic loss from the logit)
    dJ/dz_ij = mask_ij (sigmoid(z_ij) - y_ij) / m      (exactly 0 where y_ij is missing)

Missing entries — the course's "?" — are NaN in the targets or False in ``mask``. Logits
and targets are (m, T); the mask, when given, is (m, T) booleans (True = labelled).
"""

from __future__ import annotations

from dlx.core import Function, Tensor, as_tensor
from dlx.errors import DtypeError, ShapeError


class MultiTaskBCE(Function):
    def forward(self, z, y, mask):
        xp = self.xp
        self.mask = mask.astype(z.dtype)
        self.y = xp.where(mask, y, 0).astype(z.dtype)  # NaN never reaches the arithmetic
        self.z = z
        per = xp.maximum(z, 0) - z * self.y + xp.log1p(xp.exp(-xp.abs(z)))
        return xp.asarray((per * self.mask).sum() / z.shape[0], dtype=z.dtype)

    def backward(self, gy):
        s = 0.5 * (1 + self.xp.tanh(0.5 * self.z))
        return gy * self.mask * (s - self.y) / self.z.shape[0], None, None


def _labelled(name, z, y, mask):
    if y.shape != z.shape or z.ndim != 2:
        raise ShapeError(f"{name}: needs (m, T) logits and targets of the same shape, got "
                         f"{z.shape} and {y.shape}")
    if mask is not None:
        check_mask(name, mask, z.shape)


def check_mask(name, mask, shape) -> None:
    """ShapeError/DtypeError unless ``mask`` is a boolean array of exactly ``shape``."""
    if tuple(getattr(mask, "shape", ())) != tuple(shape):
        raise ShapeError(f"{name}: mask of shape {tuple(getattr(mask, 'shape', ()))} does not "
                         f"match the (m, T) targets {tuple(shape)}")
    if getattr(mask, "dtype", None) is None or mask.dtype.kind != "b":
        raise DtypeError(f"{name}: mask must be boolean (True = labelled), got dtype "
                         f"{getattr(mask, 'dtype', type(mask).__name__)}")


def multi_task_cross_entropy(z, y, mask=None) -> Tensor:
    """Sum over tasks of the logistic losses of ``z`` (m, T) logits against ``y`` (m, T)
    0/1 targets, averaged over the m examples, skipping missing labels (NaN or ~mask)."""
    from dlx import backends

    z = as_tensor(z)
    y = as_tensor(y, like=z)
    _labelled("multi_task_cross_entropy", z, y, mask)
    xp = backends.backend_of(z.data).xp
    labelled = ~xp.isnan(y.data)
    if mask is not None:
        labelled = labelled & backends.current().asarray(mask)
    return MultiTaskBCE()(z, y, Tensor(labelled))


#: fit/evaluate take NaN targets as missing labels for this loss and report per-task
#: accuracy (dlx.train.targets); a mask reaches it through fit as (X, Y, mask) data
multi_task_cross_entropy.missing_targets_are_nan = True
multi_task_cross_entropy.multi_task = True


def per_task_accuracy(z, y, mask=None) -> list:
    """Accuracy of (z > 0) per task over its labelled examples (None for a task without any)."""
    from dlx import backends

    backend = backends.backend_of(z)
    xp = backend.xp
    z, y = backend.asarray(z), backend.asarray(y)
    labelled = ~xp.isnan(y)
    if mask is not None:
        check_mask("per_task_accuracy", mask, y.shape)
        labelled = labelled & backend.asarray(mask)
    correct = ((z > 0) == (xp.where(labelled, y, 0) > 0.5)) & labelled
    counts, hits = backend.to_host(labelled.sum(axis=0)), backend.to_host(correct.sum(axis=0))
    return [None if int(n) == 0 else float(h) / float(n) for n, h in zip(counts, hits)]
