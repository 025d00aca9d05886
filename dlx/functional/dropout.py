"""Inverted dropout (the course's): keep each unit with probability keep_prob, scale by 1/keep_prob.

Training: D = (U < keep_prob) with U ~ Uniform[0, 1) drawn from the backend's seeded generator,
A_out = A * D / keep_prob, so E[A_out] = A and nothing changes at test time.
Backward uses the same mask: dA = dA_out * D / keep_prob. Evaluation: the identity.
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ConfigError, ShapeError


class Dropout(Function):
    """y = x * scale with scale = D / keep_prob (D a 0/1 mask of x's shape)."""

    def __init__(self, scale):
        self.scale = scale

    def forward(self, x):
        return x * self.scale

    def backward(self, gy):
        return gy * self.scale


def check_keep_prob(keep_prob, where: str = "dropout") -> float:
    """``keep_prob`` as a float in (0, 1], or a ConfigError naming ``where``."""
    keep_prob = float(keep_prob)
    if not 0.0 < keep_prob <= 1.0:
        raise ConfigError(f"{where}: keep_prob must be in (0, 1], got {keep_prob}")
    return keep_prob


def dropout_mask(shape, keep_prob: float, dtype=None):
    """A 0/1 mask of ``shape`` with P(1) = keep_prob, from the active backend's generator."""
    backend = backends.current()
    dtype = dtype or backend.default_dtype
    return (backend.rng.random(shape, dtype=dtype) < keep_prob).astype(dtype)


def dropout(x, keep_prob: float, training: bool = True, mask=None) -> Tensor:
    """Inverted dropout of ``x`` (any shape).

    ``mask``: an optional 0/1 (or boolean) array of x's shape, host or device, used instead
    of a random draw (tests compare backends with it). With ``training=False`` or
    ``keep_prob == 1`` the input is returned unchanged.
    """
    x = as_tensor(x)
    keep_prob = check_keep_prob(keep_prob)
    if not training or (keep_prob == 1.0 and mask is None):
        return x
    backend = backends.current()
    if mask is None:
        scale = dropout_mask(x.shape, keep_prob, x.dtype)
        scale *= 1.0 / keep_prob
    else:
        mask = backend.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.shape != x.shape:
            raise ShapeError(f"dropout: mask of shape {mask.shape} does not match input of "
                             f"shape {x.shape}")
        scale = mask.astype(x.dtype) * (1.0 / keep_prob)
    return Dropout(scale)(x)
