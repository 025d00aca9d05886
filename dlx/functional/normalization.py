"""Batch normalisation over every axis except the feature/channel axis 1.

Dense input (m, n): statistics per feature over the m rows. Images NCHW (m, C, H, W):
statistics per channel over (m, H, W). gamma, beta, mean and var have shape (n,) or (C,).

Training (batch statistics), the course's formulas:
    mu = mean(x), var = mean((x - mu)^2)            (biased, 1/m)
    xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta
Backward, with N values per feature and g = dy * gamma:
    dx = (1/N) / sqrt(var + eps) * (N g - sum(g) - xhat * sum(g * xhat))
    dgamma = sum(dy * xhat),  dbeta = sum(dy)
Evaluation (fixed statistics, e.g. the running averages): the same affine map with mu and
var given, so dx = dy * gamma / sqrt(var + eps).
"""

from __future__ import annotations

from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ShapeError


def _axes_and_shape(x_ndim: int, n: int):
    """Reduction axes (all but 1) and the broadcast shape (1, n, 1, ...) of per-feature values."""
    return (0,) + tuple(range(2, x_ndim)), (1, n) + (1,) * (x_ndim - 2)


class BatchNorm(Function):
    """y = gamma * (x - mu) / sqrt(var + eps) + beta, per feature of axis 1.

    ``mean``/``var`` None: batch statistics (training), kept afterwards on ``self.mean`` and
    ``self.var`` for the running averages. Given: fixed statistics (evaluation).
    """

    def __init__(self, eps: float, mean=None, var=None):
        self.eps = eps
        self.batch_stats = mean is None
        self.mean, self.var = mean, var

    def forward(self, x, gamma, beta):
        xp = self.xp
        self.axes, shape = _axes_and_shape(x.ndim, x.shape[1])
        if self.batch_stats:
            self.mean = x.mean(axis=self.axes)
            xc = x - self.mean.reshape(shape)
            self.var = (xc * xc).mean(axis=self.axes)
        else:
            xc = x - self.mean.reshape(shape)
        self.inv_std = (1.0 / xp.sqrt(self.var + self.eps)).reshape(shape)
        xc *= self.inv_std
        self.xhat, self.gamma = xc, gamma.reshape(shape)
        return xc * self.gamma + beta.reshape(shape)

    def backward(self, gy):
        axes, xhat = self.axes, self.xhat
        dbeta = gy.sum(axis=axes)
        dgamma = (gy * xhat).sum(axis=axes)
        g_scale = self.gamma * self.inv_std
        if not self.batch_stats:
            return gy * g_scale, dgamma, dbeta
        shape = self.gamma.shape
        n = gy.size // gy.shape[1]
        # dx = gamma/sqrt(var+eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
        dx = xhat * (dgamma * (1.0 / n)).reshape(shape)
        dx += (dbeta * (1.0 / n)).reshape(shape)
        dx = gy - dx
        dx *= g_scale
        return dx, dgamma, dbeta


def batch_norm(x, gamma, beta, running_mean=None, running_var=None, training: bool = True,
               momentum: float = 0.9, eps: float = 1e-5) -> Tensor:
    """Batch-normalise ``x`` of shape (m, n) or (m, C, H, W) per feature/channel.

    training=True: normalise with the batch statistics and, when running_mean/running_var
    arrays are given, update them in place as exponentially weighted averages
    ``running = momentum * running + (1 - momentum) * batch`` (the course's beta = momentum).
    training=False: normalise with running_mean and running_var.
    """
    x = as_tensor(x)
    if x.ndim < 2 or gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ShapeError(f"batch_norm: input of shape {x.shape} needs gamma and beta of shape "
                         f"(x.shape[1],), got {gamma.shape} and {beta.shape}")
    if not training:
        if running_mean is None or running_var is None:
            raise ShapeError("batch_norm: evaluation mode needs running_mean and running_var")
        return BatchNorm(eps, running_mean, running_var)(x, gamma, beta)
    fn = BatchNorm(eps)
    y = fn(x, gamma, beta)
    if running_mean is not None:
        running_mean *= momentum
        running_mean += (1.0 - momentum) * fn.mean
    if running_var is not None:
        running_var *= momentum
        running_var += (1.0 - momentum) * fn.var
    return y
