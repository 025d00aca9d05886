"""Concatenation along one axis as a differentiable op."""

from __future__ import annotations

from dlx.core import Function, as_tensor
from dlx.errors import ShapeError


class Concatenate(Function):
    """y = concat(x_1, ..., x_k) along ``axis``; each x_i gets its slice of the gradient."""

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        bounds, total = [], 0
        for size in self.sizes[:-1]:
            total += size
            bounds.append(total)
        return tuple(self.xp.split(gy, bounds, axis=self.axis))


def concatenate(tensors, axis: int = 0):
    """Join Tensors of equal shape except along ``axis``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ShapeError("concatenate: needs at least one tensor")
    ndim = tensors[0].ndim
    axis_n = axis % ndim if ndim else 0
    for t in tensors[1:]:
        if t.ndim != ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, tensors[0].shape))
                                 if i != axis_n):
            raise ShapeError(f"concatenate: shapes {[tuple(u.shape) for u in tensors]} differ "
                             f"outside axis {axis}")
    return Concatenate(axis)(*tensors)
