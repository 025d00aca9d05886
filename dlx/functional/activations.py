"""Activation functions and the fused dense-layer product.

Every activation is elementwise except softmax/log_softmax (over the last axis by default).
"""

from __future__ import annotations

from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ShapeError
from dlx.functional.math import float_input


class Sigmoid(Function):
    """s = 1 / (1 + e^-x), computed as 0.5 * (1 + tanh(x / 2)) (no overflow); ds = s(1 - s)."""

    def forward(self, x):
        xp = self.xp
        y = xp.tanh(x * 0.5)
        y *= 0.5
        y += 0.5
        self.y = y
        return y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


class Tanh(Function):
    """t = tanh(x); dt = 1 - t^2."""

    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


class ReLU(Function):
    """max(0, x); gradient 1 where x > 0, else 0."""

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, gy):
        return gy * self.mask


class LeakyReLU(Function):
    """x where x > 0, else slope * x."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        self.mask = x > 0
        return self.xp.where(self.mask, x, x * self.slope)

    def backward(self, gy):
        return self.xp.where(self.mask, gy, gy * self.slope)


class Softmax(Function):
    """softmax(x)_k = e^(x_k - max) / sum_j e^(x_j - max) over ``axis``."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        y = self.y
        gx = y * gy
        gx -= y * gx.sum(axis=self.axis, keepdims=True)
        return gx


class LogSoftmax(Function):
    """log softmax(x) = x - logsumexp(x) over ``axis`` (stable)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        shifted = x - x.max(axis=self.axis, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.y = y
        return y

    def backward(self, gy):
        return gy - self.xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


class Linear(Function):
    """Z = X @ W.T + b with X (m, n_in), W (n_out, n_in), b (n_out,) -> Z (m, n_out).

    Backward (the course's formulas, batch-first): dX = dZ W, dW = dZ^T X, db = sum_i dZ_i.
    """

    def forward(self, x, w, b=None):
        if x.ndim != 2 or x.shape[1] != w.shape[1]:
            raise ShapeError(f"linear: input of shape {x.shape} does not fit W of shape "
                             f"{w.shape}; expected (m, {w.shape[1]})")
        self.x, self.w, self.has_bias = x, w, b is not None
        z = x @ w.T
        if b is not None:
            z += b
        return z

    def backward(self, gz):
        # the input of a first layer needs no gradient: skip that GEMM (a third of the work)
        gx = gz @ self.w if self.needs_grad[0] else None
        gw = gz.T @ self.x
        if self.has_bias:
            return gx, gw, gz.sum(axis=0)
        return gx, gw


def sigmoid(x) -> Tensor:
    """Logistic sigmoid 1 / (1 + e^-x)."""
    return Sigmoid()(as_tensor(x))


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh()(as_tensor(x))


def relu(x) -> Tensor:
    """Rectified linear unit max(0, x)."""
    return ReLU()(as_tensor(x))


def leaky_relu(x, slope: float = 0.01) -> Tensor:
    """x for x > 0, slope * x otherwise (slope defaults to the course's 0.01)."""
    return LeakyReLU(slope)(as_tensor(x))


def identity(x) -> Tensor:
    """The linear activation g(z) = z."""
    return as_tensor(x)


def softmax(x, axis: int = -1) -> Tensor:
    """Softmax over ``axis`` (the class axis, last by default)."""
    return Softmax(axis)(as_tensor(x))


def log_softmax(x, axis: int = -1) -> Tensor:
    """log(softmax(x)) computed stably."""
    return LogSoftmax(axis)(as_tensor(x))


def linear(x, w, b=None) -> Tensor:
    """Dense-layer pre-activation Z = X @ W.T + b (W: (n_out, n_in), course shape)."""
    x = float_input(x, w.dtype)
    inputs = (x, w) if b is None else (x, w, b)
    return Linear()(*inputs)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "linear": identity,
    "softmax": softmax,
}
