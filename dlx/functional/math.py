"""Elementwise arithmetic, reductions, shape ops and matmul as differentiable Functions.

Binary ops broadcast like NumPy; their backward sums the gradient back to each input's
shape (``sum_to``). Python scalars take the other operand's dtype.
"""

from __future__ import annotations

from dlx.core import Function, Tensor, as_tensor
from dlx.errors import DtypeError, ShapeError


def sum_to(xp, g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, to get ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and g.shape[i + lead] != 1)
    g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if lead else g


def broadcast_shape(name: str, a_shape, b_shape) -> tuple:
    """NumPy's broadcast of two shapes, or a ShapeError naming the op and both shapes."""
    out = []
    for i in range(1, max(len(a_shape), len(b_shape)) + 1):
        m = a_shape[-i] if i <= len(a_shape) else 1
        n = b_shape[-i] if i <= len(b_shape) else 1
        if m != n and m != 1 and n != 1:
            raise ShapeError(f"{name}: shapes {tuple(a_shape)} and {tuple(b_shape)} do not "
                             "broadcast (trailing axes must be equal or 1)")
        out.append(max(m, n) if m and n else 0)
    return tuple(reversed(out))


def float_input(x, dtype) -> Tensor:
    """``x`` as a Tensor; integer/bool data cast to the float ``dtype`` (a layer's weights)."""
    x = as_tensor(x)
    return Tensor(x.data.astype(dtype)) if x.data.dtype.kind in "biu" else x


def _pair(a, b, name: str | None = None):
    """Both operands as Tensors; a Python number or an integer/bool operand takes the other
    operand's float dtype; with an op ``name``, the shapes must broadcast."""
    if isinstance(a, Tensor):
        b = as_tensor(b, like=a) if not isinstance(b, Tensor) else b
    else:
        b = as_tensor(b)
        a = as_tensor(a, like=b)
    if a.dtype.kind == "f" and b.dtype.kind in "biu":
        b = Tensor(b.data.astype(a.dtype))
    elif b.dtype.kind == "f" and a.dtype.kind in "biu":
        a = Tensor(a.data.astype(b.dtype))
    if name is not None and a.shape != b.shape:
        broadcast_shape(name, a.shape, b.shape)
    return a, b


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy):
        return sum_to(self.xp, gy, self.shapes[0]), sum_to(self.xp, gy, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, gy):
        return sum_to(self.xp, gy, self.shapes[0]), sum_to(self.xp, -gy, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        return sum_to(self.xp, gy * self.b, self.a.shape), sum_to(self.xp, gy * self.a, self.b.shape)


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        ga = gy / self.b
        return sum_to(self.xp, ga, self.a.shape), sum_to(self.xp, -ga * self.a / self.b, self.b.shape)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Power(Function):
    """y = x ** c for a constant exponent c; dy/dx = c x^(c-1)."""

    def __init__(self, exponent):
        self.c = exponent

    def forward(self, x):
        self.x = x
        return x ** self.c

    def backward(self, gy):
        return gy * self.c * self.x ** (self.c - 1)


class MatMul(Function):
    """(m, k) @ (k, n) -> (m, n); also batched and matrix-vector as numpy defines them."""

    def forward(self, a, b):
        if a.ndim < 1 or b.ndim < 1 or a.shape[-1] != b.shape[0 if b.ndim == 1 else -2]:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                             "(last axis of the first must equal the second-to-last of the second)")
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        xp, a, b = self.xp, self.a, self.b
        if a.ndim == 2 and b.ndim == 2:
            return gy @ b.T, a.T @ gy
        if a.ndim == 1 and b.ndim == 1:  # inner product: gy is 0-d
            return gy * b, gy * a
        a2 = a[None] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = gy
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        ga = g2 @ xp.swapaxes(b2, -1, -2)
        gb = xp.swapaxes(a2, -1, -2) @ g2
        ga = sum_to(xp, ga, a2.shape).reshape(a.shape)
        gb = sum_to(xp, gb, b2.shape).reshape(b.shape)
        return ga, gb


class Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        xp = self.xp
        if not self.keepdims and self.axis is not None:
            axes = (self.axis,) if isinstance(self.axis, int) else self.axis
            axes = sorted(a % len(self.shape) for a in axes)
            for a in axes:
                gy = xp.expand_dims(gy, a)
        return xp.broadcast_to(gy, self.shape)


class Reshape(Function):
    def __init__(self, shape):
        self.out_shape = shape

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(self.out_shape)

    def backward(self, gy):
        return gy.reshape(self.shape)


class Transpose(Function):
    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return gy.transpose()
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a % len(self.axes)] = i
        return gy.transpose(inverse)


class GetItem(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.shape, self.dtype = x.shape, x.dtype
        return x[self.index]

    def backward(self, gy):
        gx = self.xp.zeros(self.shape, dtype=self.dtype)
        self.backend.scatter_add(gx, self.index, gy)
        return gx


class BroadcastTo(Function):
    def __init__(self, shape):
        self.out_shape = shape

    def forward(self, x):
        self.shape = x.shape
        return self.xp.broadcast_to(x, self.out_shape)

    def backward(self, gy):
        return sum_to(self.xp, gy, self.shape)


class Exp(Function):
    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    def forward(self, x):
        self.x = x
        return self.xp.log(x)

    def backward(self, gy):
        return gy / self.x


class Clip(Function):
    """Clamp to [lo, hi]; the gradient passes where lo <= x <= hi."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.mask = (x >= self.lo) & (x <= self.hi)
        return self.xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        return gy * self.mask


class Maximum(Function):
    """Elementwise max; on ties the gradient goes to the first argument."""

    def forward(self, a, b):
        self.first = a >= b
        self.shapes = a.shape, b.shape
        return self.xp.maximum(a, b)

    def backward(self, gy):
        xp = self.xp
        return (sum_to(xp, gy * self.first, self.shapes[0]),
                sum_to(xp, gy * ~self.first, self.shapes[1]))


def add(a, b) -> Tensor:
    """a + b (broadcasting)."""
    return Add()(*_pair(a, b, "add"))


def sub(a, b) -> Tensor:
    """a - b (broadcasting)."""
    return Sub()(*_pair(a, b, "sub"))


def mul(a, b) -> Tensor:
    """a * b elementwise (broadcasting)."""
    return Mul()(*_pair(a, b, "mul"))


def div(a, b) -> Tensor:
    """a / b elementwise (broadcasting)."""
    return Div()(*_pair(a, b, "div"))


def neg(x) -> Tensor:
    """-x."""
    return Neg()(as_tensor(x))


def power(x, exponent) -> Tensor:
    """x ** exponent for a constant (Python number) exponent."""
    if isinstance(exponent, Tensor):
        raise DtypeError("power: the exponent must be a Python number, got a Tensor")
    return Power(exponent)(as_tensor(x))


def matmul(a, b) -> Tensor:
    """Matrix product a @ b."""
    return MatMul()(*_pair(a, b))


def sum(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - mirrors numpy.sum
    """Sum over ``axis`` (all axes when None)."""
    return Sum(axis, keepdims)(as_tensor(x))


def mean(x, axis=None, keepdims=False) -> Tensor:
    """Mean over ``axis`` (all axes when None)."""
    x = as_tensor(x)
    if axis is None:
        count = x.size
    else:
        axes = (axis,) if isinstance(axis, int) else axis
        count = 1
        for a in axes:
            count *= x.shape[a]
    return mul(sum(x, axis, keepdims), 1.0 / count)


def reshape(x, shape) -> Tensor:
    """A view of x with a new shape (one axis may be -1)."""
    x = as_tensor(x)
    if tuple(shape) == x.shape:
        return x
    return Reshape(tuple(shape))(x)


def transpose(x, axes=None) -> Tensor:
    """Permute axes (reverse them when None)."""
    return Transpose(None if axes is None else tuple(axes))(as_tensor(x))


def getitem(x, index) -> Tensor:
    """x[index] (basic and integer-array indexing)."""
    if isinstance(index, Tensor):
        index = index.data
    return GetItem(index)(as_tensor(x))


def broadcast_to(x, shape) -> Tensor:
    """Broadcast x to ``shape``."""
    x = as_tensor(x)
    if x.shape == tuple(shape):
        return x
    return BroadcastTo(tuple(shape))(x)


def exp(x) -> Tensor:
    """e ** x."""
    return Exp()(as_tensor(x))


def log(x) -> Tensor:
    """Natural logarithm."""
    return Log()(as_tensor(x))


def clip(x, lo, hi) -> Tensor:
    """Clamp x to [lo, hi]."""
    return Clip(lo, hi)(as_tensor(x))


def maximum(a, b) -> Tensor:
    """Elementwise maximum of a and b (broadcasting)."""
    return Maximum()(*_pair(a, b, "maximum"))
