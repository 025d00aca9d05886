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

A backend may supply fused kernels for these formulas (``backend.batch_norm_kernels``: the
NumPy backend's compiled ones for float32 images, :mod:`dlx.backends.batch_norm_kernels`).
"""

from __future__ import annotations

from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ShapeError


def _per_feature(x):
    """``x`` as (m, n) for dense input or (N, C, H*W) for images -- the per-channel pixels
    contiguous, so reductions and broadcasts run over long rows -- with the shape per-feature
    values broadcast as ((n,) or (C, 1)) and the einsum of a per-feature dot product."""
    if x.ndim == 2:
        return x, (x.shape[1],), "mf,mf->f"
    return x.reshape(x.shape[0], x.shape[1], -1), (x.shape[1], 1), "nfp,nfp->f"


def _feature_sum(v):
    """Per-feature sum of a :func:`_per_feature` view: over the rows, then the samples."""
    return v.sum(axis=0) if v.ndim == 2 else v.sum(axis=2).sum(axis=0)


class BatchNorm(Function):
    """y = gamma * (x - mu) / sqrt(var + eps) + beta, per feature of axis 1.

    ``mean``/``var`` None: batch statistics (training), kept afterwards on ``self.mean`` and
    ``self.var`` for the running averages. Given: fixed statistics (evaluation).
    The variance is a dot product of the centred values (no squared temporary), and the
    backward computes dx in one buffer: 4 passes over the data instead of 7 temporaries.
    """

    def __init__(self, eps: float, mean=None, var=None):
        self.eps = eps
        self.batch_stats = mean is None
        self.mean, self.var = mean, var

    def forward(self, x, gamma, beta):
        xp = self.xp
        self.kernels = self.backend.batch_norm_kernels(x)
        if self.kernels is not None:
            y, self.mean, self.var, self.inv_std = self.kernels.forward(
                x, gamma, beta, self.eps, None if self.batch_stats else self.mean, self.var)
            self.x, self.gamma = x, gamma
            return y
        v, self.shape, self.dot = _per_feature(x)
        self.count = v.size // x.shape[1]
        if self.batch_stats:
            self.mean = _feature_sum(v) / self.count
        xc = xp.subtract(v, self.mean.reshape(self.shape))
        if self.batch_stats:
            self.var = xp.einsum(self.dot, xc, xc) / self.count
        self.inv_std = 1.0 / xp.sqrt(self.var + self.eps)
        xc *= self.inv_std.reshape(self.shape)
        self.xhat, self.gamma = xc, gamma
        y = xp.multiply(xc, gamma.reshape(self.shape))
        y += beta.reshape(self.shape)
        return y.reshape(x.shape)

    def backward(self, gy):
        if self.kernels is not None:
            return self.kernels.backward(self.x, gy, self.gamma, self.mean, self.inv_std,
                                         self.batch_stats, self.needs_grad[0])
        xp, xhat, shape = self.xp, self.xhat, self.shape
        g = gy.reshape(xhat.shape)
        dbeta = _feature_sum(g)
        dgamma = xp.einsum(self.dot, g, xhat)
        g_scale = (self.gamma * self.inv_std).reshape(shape)
        if not self.batch_stats:
            return (g * g_scale).reshape(gy.shape), dgamma, dbeta
        # dx = gamma/sqrt(var+eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
        dx = xp.multiply(xhat, (dgamma / self.count).reshape(shape))
        xp.subtract(g, dx, out=dx)
        dx -= (dbeta / self.count).reshape(shape)
        dx *= g_scale
        return dx.reshape(gy.shape), dgamma, dbeta


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
