"""Losses: binary cross-entropy, softmax cross-entropy and mean squared error.

Each returns a 0-d tensor: the mean cost J = (1/m) * sum_i L(yhat_i, y_i) the course writes.
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Function, Tensor, as_tensor
from dlx.errors import DtypeError, ShapeError
from dlx.functional.activations import log_softmax


def _match_targets(name, pred: Tensor, y):
    y = as_tensor(y, like=pred)
    if y.shape != pred.shape:
        if y.size == pred.size and pred.ndim >= 1 and y.ndim >= 1 and y.shape[0] == pred.shape[0]:
            y = Tensor(y.data.reshape(pred.shape))
        else:
            raise ShapeError(f"{name}: targets of shape {y.shape} do not match predictions "
                             f"of shape {pred.shape}")
    return y


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


def binary_cross_entropy_with_logits(z, y) -> Tensor:
    """Mean binary cross-entropy of sigmoid(z) against 0/1 targets, computed from logits."""
    z = as_tensor(z)
    return BCEWithLogits()(z, _match_targets("binary_cross_entropy_with_logits", z, y))


def binary_cross_entropy(a, y, eps: float = 1e-7) -> Tensor:
    """-(1/m) sum(y log a + (1 - y) log(1 - a)), with a clipped to [eps, 1 - eps]."""
    from dlx.functional.math import clip, log, mean

    a = as_tensor(a)
    y = _match_targets("binary_cross_entropy", a, y)
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


def softmax_cross_entropy(z, y, ignore_index: int = -100, sample_weight=None) -> Tensor:
    """Mean cross-entropy of softmax(z) against labels.

    z: (m, K) logits. y: (m,) integer labels in [0, K) (rows equal to ``ignore_index`` are
    left out of the loss and of m), or (m, K) one-hot / probability targets.
    ``sample_weight`` (m,): per-sample weights replacing 1/m (integer labels only).
    """
    z = as_tensor(z)
    if z.ndim != 2:
        raise ShapeError(f"softmax_cross_entropy: logits must be (m, K), got shape {z.shape}")
    backend = backends.current()
    labels = y.data if isinstance(y, Tensor) else backend.asarray(y)
    if labels.ndim == 2:
        if labels.shape != z.shape:
            raise ShapeError(f"softmax_cross_entropy: one-hot targets of shape {labels.shape} "
                             f"do not match logits {z.shape}")
        targets = as_tensor(labels, like=z)
        return -(targets * log_softmax(z)).sum() * (1.0 / z.shape[0])
    if labels.ndim != 1 or labels.shape[0] != z.shape[0]:
        raise ShapeError(f"softmax_cross_entropy: labels must be (m,) = ({z.shape[0]},) "
                         f"integers or (m, K) one-hot, got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise DtypeError(f"softmax_cross_entropy: integer labels expected, got dtype "
                         f"{labels.dtype} (pass one-hot targets as an (m, K) array)")
    weights = sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight
    if weights is not None:
        weights = backend.asarray(weights, dtype=z.dtype)
        if weights.shape != labels.shape:
            raise ShapeError(f"softmax_cross_entropy: sample_weight of shape {weights.shape} "
                             f"does not match labels {labels.shape}")
    return SoftmaxCrossEntropy(labels, ignore_index, weights)(z)


def mean_squared_error(a, y) -> Tensor:
    """(1/n) sum (a - y)^2 over all elements."""
    from dlx.functional.math import mean

    a = as_tensor(a)
    diff = a - _match_targets("mean_squared_error", a, y)
    return mean(diff * diff)
