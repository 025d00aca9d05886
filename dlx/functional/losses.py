"""Losses: binary cross-entropy, softmax cross-entropy and mean squared error.

Each returns a 0-d tensor: the mean cost J = (1/m) * sum_i L(yhat_i, y_i) the course writes.
Targets are checked (``dlx.functional.targets``): the prediction's shape (a trailing 1 may
differ), labels in range, finite values, m >= 1; bad targets raise ShapeError or LabelError.
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Function, Tensor, as_tensor
from dlx.errors import DtypeError, ShapeError
from dlx.functional import targets as T
from dlx.functional.activations import log_softmax


class BCEWithLogits(Function):
    """L = max(z, 0) - z*y + log(1 + e^-|z|) (stable); dL/dz = (sigmoid(z) - y) / m."""

    def forward(self, z, y):
        xp = self.xp
        self.z, self.y = z, y
        per = xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
        return xp.asarray(per.mean(), dtype=z.dtype)

    def backward(self, gy):
        xp = self.xp
        s = 0.5 * (1 + xp.tanh(0.5 * self.z))
        return gy * (s - self.y) / self.z.size, None


def _binary_targets(name, pred: Tensor, y) -> Tensor:
    T.check_nonempty(name, pred.shape)
    y = T.match_shape(name, pred, y)
    T.check_binary_targets(name, y.data)
    return y


def binary_cross_entropy_with_logits(z, y) -> Tensor:
    """Mean binary cross-entropy of sigmoid(z) against targets in [0, 1], from logits.

    y: 0/1 labels or soft labels in [0, 1], of z's shape ((m,) and (m, 1) are interchangeable).
    """
    name = "binary_cross_entropy_with_logits"
    z = as_tensor(z)
    return BCEWithLogits()(z, _binary_targets(name, z, y))


def binary_cross_entropy(a, y, eps: float = 1e-7) -> Tensor:
    """-(1/m) sum(y log a + (1 - y) log(1 - a)) for probabilities a in [0, 1].

    a outside [0, 1] (or NaN) is refused; inside, a is clipped to [eps, 1 - eps] so a = 0 or 1
    gives a large finite cost rather than inf. y as in binary_cross_entropy_with_logits.
    """
    from dlx.functional.math import clip, log, mean

    name = "binary_cross_entropy"
    a = as_tensor(a)
    y = _binary_targets(name, a, y)
    T.check_probabilities(name, a.data, "binary_cross_entropy_with_logits")
    a = clip(a, eps, 1 - eps)
    return -mean(y * log(a) + (1 - y) * log(1 - a))


class SoftmaxCrossEntropy(Function):
    """Fused, stable softmax + cross-entropy on integer labels (the backend primitive)."""

    def __init__(self, labels, ignore_index, sample_weight):
        self.t, self.ignore_index, self.sample_weight = labels, ignore_index, sample_weight

    def forward(self, z):
        loss, self.lse, self.scale = self.backend.softmax_ce_fwd(
            z, self.t, self.ignore_index, self.sample_weight)
        self.z = z  # with lse, all the backward needs: softmax is recomputed there
        return loss

    def backward(self, gloss):
        return self.backend.softmax_ce_bwd(self.z, self.lse, self.t, self.scale, gloss,
                                           self.ignore_index)


#: the backend primitive's ignore label when the caller gave none: the labels were checked
#: to lie in [0, K), so no row carries it
_NO_IGNORE = -(2 ** 62)


def class_labels(name: str, k: int, y, ignore_index=None):
    """(m,) or (m, 1) integer labels as a device (m,) array, checked to lie in [0, K)."""
    backend = backends.current()
    labels = y.data if isinstance(y, Tensor) else backend.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.reshape(-1)
    if labels.dtype.kind not in "iu":
        raise DtypeError(f"{name}: integer labels expected, got dtype {labels.dtype} (pass "
                         "one-hot targets as an (m, K) array)")
    T.check_class_labels(name, labels, k, ignore_index)
    return labels


def _is_distribution_rows(raw) -> bool:
    """(m, K) targets with K > 1: one-hot or probability rows, not (m,)/(m, 1) labels."""
    return raw.ndim == 2 and raw.shape[1] != 1


def _distribution_cost(name, raw, out: Tensor, log_probs: Tensor, what: str) -> Tensor:
    """-(1/m) sum_ik y_ik log p_ik for (m, K) target rows ``raw`` against ``out`` (m, K)."""
    if raw.shape != out.shape:
        raise ShapeError(f"{name}: one-hot targets of shape {raw.shape} do not match "
                         f"{what} {out.shape}")
    targets = as_tensor(raw, like=out)
    T.check_distributions(name, targets.data)
    return -(targets * log_probs).sum() * (1.0 / out.shape[0])


def softmax_cross_entropy(z, y, ignore_index: int | None = None, sample_weight=None) -> Tensor:
    """Mean cross-entropy of softmax(z) against labels.

    z: (m, K) logits. y: (m,) or (m, 1) integer labels in [0, K), or (m, K) one-hot /
    probability rows (non-negative, summing to 1). ``ignore_index``: a label value whose rows
    are left out of the loss and of m -- only when given (by default every label must be a
    class). ``sample_weight`` (m,): per-sample weights replacing 1/m (integer labels only).
    """
    name = "softmax_cross_entropy"
    z = as_tensor(z)
    if z.ndim != 2:
        raise ShapeError(f"{name}: logits must be (m, K), got shape {z.shape}")
    T.check_nonempty(name, z.shape)
    backend = backends.current()
    raw = y.data if isinstance(y, Tensor) else backend.asarray(y)
    if _is_distribution_rows(raw):
        return _distribution_cost(name, raw, z, log_softmax(z), "logits")
    if raw.ndim not in (1, 2) or raw.shape[0] != z.shape[0]:
        raise ShapeError(f"{name}: labels must be (m,) = ({z.shape[0]},) integers or (m, K) "
                         f"one-hot, got shape {raw.shape}")
    labels = class_labels(name, z.shape[1], raw, ignore_index)
    weights = sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight
    if weights is not None:
        weights = backend.asarray(weights, dtype=z.dtype)
        if weights.shape != labels.shape:
            raise ShapeError(f"{name}: sample_weight of shape {weights.shape} does not match "
                             f"labels {labels.shape}")
    return SoftmaxCrossEntropy(labels, _NO_IGNORE if ignore_index is None else ignore_index,
                               weights)(z)


def cross_entropy(p, y, eps: float = 1e-7) -> Tensor:
    """-(1/m) sum_i log p[i, y_i] for (m, K) probabilities p (a model ending in softmax).

    y: (m,) or (m, 1) integer labels in [0, K), or (m, K) one-hot/probability rows. p is
    clipped to [eps, 1] (p outside [0, 1] is refused). Prefer logits and
    softmax_cross_entropy: it is stabler and faster.
    """
    from dlx.functional.math import clip, log

    name = "cross_entropy"
    p = as_tensor(p)
    if p.ndim != 2:
        raise ShapeError(f"{name}: probabilities must be (m, K), got shape {p.shape}")
    T.check_nonempty(name, p.shape)
    T.check_probabilities(name, p.data, "softmax_cross_entropy")
    backend = backends.current()
    raw = y.data if isinstance(y, Tensor) else backend.asarray(y)
    logp = log(clip(p, eps, 1.0))
    if _is_distribution_rows(raw):
        return _distribution_cost(name, raw, p, logp, "probabilities")
    if raw.shape[0] != p.shape[0]:
        raise ShapeError(f"{name}: labels must be (m,) = ({p.shape[0]},), got {raw.shape}")
    labels = class_labels(name, p.shape[1], raw)
    picked = logp[backend.xp.arange(p.shape[0]), labels]
    return -picked.sum() * (1.0 / p.shape[0])


def mean_squared_error(a, y) -> Tensor:
    """(1/n) sum (a - y)^2 over all elements; y of a's shape (a trailing 1 may differ)."""
    from dlx.functional.math import mean

    name = "mean_squared_error"
    a = as_tensor(a)
    T.check_nonempty(name, a.shape)
    y = T.match_shape(name, a, y)
    T.check_finite(name, y.data)
    diff = a - y
    return mean(diff * diff)
