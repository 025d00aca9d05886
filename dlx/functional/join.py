"""Joining tensors: ``concatenate`` along an existing axis, ``stack`` along a new one."""

from __future__ import annotations

from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ShapeError


class Concatenate(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        edges, total = [], 0
        for n in self.sizes[:-1]:
            total += n
            edges.append(total)
        return tuple(self.xp.split(gy, edges, axis=self.axis))


def concatenate(tensors, axis: int = -1) -> Tensor:
    """Join tensors along an existing ``axis`` (shapes must agree elsewhere)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ShapeError("concatenate: needs at least one tensor")
    ndim = tensors[0].ndim
    axis = axis % ndim
    rest = {t.shape[:axis] + t.shape[axis + 1:] for t in tensors}
    if len(rest) != 1 or any(t.ndim != ndim for t in tensors):
        raise ShapeError(f"concatenate: shapes {[t.shape for t in tensors]} differ outside "
                         f"axis {axis}")
    return Concatenate(axis)(*tensors)


class Stack(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return self.xp.stack(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(self.xp.moveaxis(gy, self.axis, 0))


def stack(tensors, axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new ``axis``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors or len({t.shape for t in tensors}) != 1:
        raise ShapeError(f"stack: needs one or more tensors of one shape, got "
                         f"{[t.shape for t in tensors]}")
    return Stack(axis % (tensors[0].ndim + 1))(*tensors)
