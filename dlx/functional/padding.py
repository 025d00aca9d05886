"""Constant padding: the course's ``zero_pad``, for any axes, with backward."""

from __future__ import annotations

import numbers

from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ConfigError


class Pad(Function):
    """y = x surrounded by ``value``; dy/dx is the gradient's centre slice."""

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        self.centre = tuple(slice(b, b + n) for (b, _), n in zip(self.widths, x.shape))
        return self.xp.pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, gy):
        return gy[self.centre]


def _width_pairs(width, axes, ndim):
    """((before, after) for every axis of x), from ``width`` over ``axes``."""
    axes = tuple(range(ndim)) if axes is None else (axes,) if isinstance(axes, int) else tuple(axes)
    for a in axes:
        if not isinstance(a, numbers.Integral) or not -ndim <= a < ndim:
            raise ConfigError(f"pad: axis {a!r} is out of range for a {ndim}-D tensor")
    axes = tuple(int(a) % ndim for a in axes)
    if len(set(axes)) != len(axes):
        raise ConfigError(f"pad: axes {axes} repeat an axis")
    def pair(w):
        return (w, w) if isinstance(w, numbers.Integral) else \
            tuple(w) if isinstance(w, (list, tuple)) else (w, w)

    if not isinstance(width, (list, tuple)):
        pairs = [pair(width)] * len(axes)
    elif len(width) == 2 and all(isinstance(w, numbers.Integral) for w in width):
        pairs = [tuple(width)] * len(axes)
    elif len(width) == len(axes):
        pairs = [pair(w) for w in width]
    else:
        raise ConfigError(f"pad: width must be an int, a (before, after) pair or one of "
                          f"those per axis ({len(axes)} axes), got {width!r}")
    widths = [(0, 0)] * ndim
    for a, pair in zip(axes, pairs):
        if len(pair) != 2 or not all(isinstance(w, numbers.Integral) and w >= 0 for w in pair):
            raise ConfigError(f"pad: widths must be non-negative integers (before, after), got "
                              f"{pair!r} for axis {a}")
        widths[a] = (int(pair[0]), int(pair[1]))
    return tuple(widths)


def pad(x, width, axes=None, value: float = 0.0) -> Tensor:
    """x padded with the constant ``value`` (0: the course's ``zero_pad``).

    ``width``: an int (the same on both sides), a ``(before, after)`` pair, or one of those
    per axis in ``axes`` (default: every axis). The course's ``zero_pad(X, pad)`` on NCHW
    images is ``pad(X, p, axes=(2, 3))``: (m, C, H, W) -> (m, C, H + 2p, W + 2p).
    """
    x = as_tensor(x)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"pad: value must be a real number, got {value!r}")
    return Pad(_width_pairs(width, axes, x.ndim), float(value))(x)
