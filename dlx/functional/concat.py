"""Concatenation and stacking along an axis, with backward.

    y = concat([x_1, ..., x_k], axis)     y.shape[axis] = sum_i x_i.shape[axis]
    dL/dx_i = the slice of dL/dy that x_i filled

Used by the Inception module (channel axis 1 of NCHW) and wherever outputs are joined.
"""

from __future__ import annotations

from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ConfigError, DtypeError, ShapeError


class Concat(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        grads, start = [], 0
        index = [slice(None)] * gy.ndim
        for size, needed in zip(self.sizes, self.needs_grad):
            index[self.axis] = slice(start, start + size)
            grads.append(gy[tuple(index)] if needed else None)
            start += size
        return tuple(grads)


def concat(tensors, axis: int = 0) -> Tensor:
    """Join ``tensors`` (a list of Tensors/arrays of one dtype) along ``axis``; every other
    axis must agree. ``axis`` may be negative."""
    xs = [as_tensor(t) for t in tensors]
    if not xs:
        raise ConfigError("concat: give at least one tensor")
    ndim = xs[0].ndim
    if ndim == 0:
        raise ShapeError("concat: cannot concatenate 0-d tensors")
    if not -ndim <= axis < ndim:
        raise ConfigError(f"concat: axis {axis} is out of range for {ndim}-d tensors")
    axis %= ndim
    for x in xs:
        if x.ndim != ndim or x.shape[:axis] + x.shape[axis + 1:] != \
                xs[0].shape[:axis] + xs[0].shape[axis + 1:]:
            raise ShapeError(f"concat: shapes {[tuple(t.shape) for t in xs]} differ outside "
                             f"axis {axis}")
        if x.dtype != xs[0].dtype:
            raise DtypeError(f"concat: dtypes {[str(t.dtype) for t in xs]} differ; cast first")
    if len(xs) == 1:
        return xs[0]
    return Concat(axis)(*xs)


def stack(tensors, axis: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new ``axis``."""
    xs = [as_tensor(t) for t in tensors]
    if not xs:
        raise ConfigError("stack: give at least one tensor")
    ndim = xs[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise ConfigError(f"stack: axis {axis} is out of range for {ndim}-d output")
    axis %= ndim
    return concat([x.reshape(x.shape[:axis] + (1,) + x.shape[axis:]) for x in xs], axis)
