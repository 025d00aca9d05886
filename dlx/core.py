"""Tensor and reverse-mode automatic differentiation.

A :class:`Function` has array-level ``forward``/``backward`` written with the active
backend's ``xp``; calling it on Tensors records the graph (unless :func:`no_grad` is in
force). ``Tensor.backward()`` walks the graph in reverse topological order (by generation),
accumulates gradients into ``.grad`` (plain backend arrays), and releases the graph.
"""

from __future__ import annotations

import contextlib
import heapq
import weakref

from dlx import backends
from dlx.errors import ConfigError, DlxError, DtypeError, ShapeError

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Context manager: ops inside it record no graph (evaluation, optimiser updates)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    return _grad_enabled


class Tensor:
    """A backend array plus the bookkeeping autodiff needs.

    ``data`` is a numpy or cupy array; ``grad`` (after ``backward``) an array of the same
    shape; ``creator`` the Function that produced it (None for leaves).
    """

    __slots__ = ("data", "grad", "creator", "output_index", "generation", "requires_grad",
                 "name", "__weakref__")
    __array_priority__ = 200

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        backend = backends.current()
        if not backend.owns(data):
            data = backend.asarray(data)
            if data.dtype.kind == "f" and data.dtype != backend.default_dtype:
                data = data.astype(backend.default_dtype)
        elif data.dtype.kind not in "biuf":
            raise DtypeError(f"Tensor: data must hold real numbers (bool, integer or float), "
                             f"got dtype {data.dtype}; convert it first (e.g. "
                             "a.astype('float32'), or np.real(a) for complex values)")
        self.data = data
        self.grad = None
        self.creator = None
        self.output_index = 0
        self.generation = 0
        self.requires_grad = requires_grad
        self.name = name

    # -- array-like facts -------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def T(self):
        from dlx.functional import transpose

        return transpose(self)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = str(self.to_numpy()).replace("\n", "\n       ")
        return f"Tensor({body}, dtype={self.dtype}{', requires_grad' if self.requires_grad else ''})"

    def to_numpy(self):
        """The values as a host NumPy array (a device->host copy on the GPU)."""
        return backends.backend_of(self.data).to_host(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float (synchronises the device)."""
        if self.size != 1:
            raise ShapeError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self.to_numpy().reshape(()))

    def retain_grad(self) -> "Tensor":
        """Keep this tensor's gradient in ``.grad`` after ``backward()``; returns self.

        For an intermediate result such as a layer's Z or A this gives the course's dZ and dA
        (d cost / d Z, same shape as Z). Leaves that require a gradient keep theirs anyway.
        The function that produced the tensor holds only a weak reference to it.
        """
        if not self.requires_grad:
            raise ConfigError("retain_grad(): this tensor does not require a gradient (it was "
                           "computed from constants or under no_grad()); only results of "
                           "ops on tensors with requires_grad=True have one")
        if self.creator is not None:
            self.creator.retain_output(self)
        return self

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's data, outside any graph."""
        return Tensor(self.data)

    # -- autodiff ----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` that requires it.

        ``grad`` defaults to ones for a one-element tensor. The graph is released afterwards
        unless ``retain_graph``.
        """
        xp = backends.backend_of(self.data).xp
        if grad is None:
            if self.size != 1:
                raise ShapeError("backward() without a gradient needs a one-element tensor, "
                                 f"got shape {self.shape}; pass grad= of that shape")
            grad = xp.ones_like(self.data)
        elif isinstance(grad, Tensor):
            grad = grad.data
        elif not backends.backend_of(self.data).owns(grad):
            grad = backends.backend_of(self.data).asarray(grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise ShapeError(f"backward(): grad has shape {grad.shape}, tensor has {self.shape}")
        if self.creator is None:
            self.grad = grad if self.grad is None else self.grad + grad
            return

        # gradients of non-leaf tensors live only during the walk, keyed by the edge
        # (function, output index) that produced them
        grads = {(id(self.creator), self.output_index): grad}
        heap: list = []
        seen = set()
        done: list = []

        def push(fn):
            if id(fn) not in seen:
                seen.add(id(fn))
                heapq.heappush(heap, (-fn.generation, len(seen), fn))

        push(self.creator)
        while heap:
            fn = heapq.heappop(heap)[2]
            if fn.released:
                raise DlxError("backward() through a graph that was already released; pass "
                               "retain_graph=True to the first backward() to walk it twice")
            gys = [grads.pop((id(fn), i), None) for i in range(fn.n_outputs)]
            fn.store_retained(gys)
            gxs = fn.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for edge, gx in zip(fn.edges, gxs):
                if gx is None or edge is None:
                    continue
                if isinstance(edge, Tensor):  # a leaf that requires a gradient
                    edge.grad = gx if edge.grad is None else edge.grad + gx
                else:
                    key = (id(edge[0]), edge[1])
                    grads[key] = gx if key not in grads else grads[key] + gx
                    push(edge[0])
            done.append(fn)
        if not retain_graph:
            for fn in done:
                fn.release()

    # -- operators (implemented in dlx.functional) --------------------------------------------
    def __add__(self, other):
        from dlx.functional import add

        return add(self, other)

    def __radd__(self, other):
        from dlx.functional import add

        return add(other, self)

    def __sub__(self, other):
        from dlx.functional import sub

        return sub(self, other)

    def __rsub__(self, other):
        from dlx.functional import sub

        return sub(other, self)

    def __mul__(self, other):
        from dlx.functional import mul

        return mul(self, other)

    def __rmul__(self, other):
        from dlx.functional import mul

        return mul(other, self)

    def __truediv__(self, other):
        from dlx.functional import div

        return div(self, other)

    def __rtruediv__(self, other):
        from dlx.functional import div

        return div(other, self)

    def __neg__(self):
        from dlx.functional import neg

        return neg(self)

    def __pow__(self, exponent):
        from dlx.functional import power

        return power(self, exponent)

    def __matmul__(self, other):
        from dlx.functional import matmul

        return matmul(self, other)

    def __rmatmul__(self, other):
        from dlx.functional import matmul

        return matmul(other, self)

    def __getitem__(self, index):
        from dlx.functional import getitem

        return getitem(self, index)

    def sum(self, axis=None, keepdims=False):
        from dlx.functional import sum as _sum

        return _sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        from dlx.functional import mean

        return mean(self, axis, keepdims)

    def reshape(self, *shape):
        from dlx.functional import reshape

        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape)

    def transpose(self, *axes):
        from dlx.functional import transpose

        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    def exp(self):
        from dlx.functional import exp

        return exp(self)

    def log(self):
        from dlx.functional import log

        return log(self)


class Parameter(Tensor):
    """A trainable leaf tensor (``requires_grad`` is always true)."""

    __slots__ = ()

    def __init__(self, data, name: str | None = None):
        super().__init__(data, requires_grad=True, name=name)
        # always a copy: an optimiser updates the parameter in place and must never write
        # into the caller's own array
        self.data = self.data.copy()

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):]


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` if it is a Tensor, else a constant leaf (dtype of ``like`` when given)."""
    if isinstance(value, Tensor):
        return value
    backend = backends.current()
    dtype = like.dtype if like is not None else None
    if dtype is None and not backend.owns(value):
        return Tensor(value)
    return Tensor(backend.asarray(value, dtype=dtype))


class Function:
    """An op: ``forward(*arrays) -> array(s)`` and ``backward(*grads) -> grad(s)``.

    Subclasses read the array module from ``self.xp`` and keep whatever backward needs on
    ``self``. A backward returns one gradient per input, ``None`` where there is none; it may
    skip work for inputs whose ``self.needs_grad[i]`` is false.

    The graph holds no input tensors, only edges: a leaf that requires a gradient, or the
    (function, output index) that produced a non-leaf input. So an input array stays alive
    only while some Function saved it for its backward (a ReLU keeps its mask, not the
    convolution output before it).
    """

    generation = 0
    n_outputs = 1
    released = False
    edges: tuple = ()
    needs_grad: tuple = ()
    retained: dict | None = None  # output index -> weakref of a tensor that retain_grad()s

    def __call__(self, *inputs):
        backend = backends.current()
        self.backend = backend
        self.xp = backend.xp
        if len(inputs) > 1:
            _check_float_dtypes(self, inputs)
        ys = self.forward(*[x.data for x in inputs])
        many = isinstance(ys, tuple)
        if not many:
            ys = (ys,)
        outputs = []
        for i, y in enumerate(ys):
            out = Tensor.__new__(Tensor)
            out.data = y
            out.grad = out.creator = out.name = None
            out.output_index = i
            out.generation = 0
            out.requires_grad = False
            outputs.append(out)
        if _grad_enabled and any(x.requires_grad for x in inputs):
            self.generation = max(x.generation for x in inputs)
            self.n_outputs = len(outputs)
            self.needs_grad = tuple(x.requires_grad for x in inputs)
            self.edges = tuple(
                None if not x.requires_grad else x if x.creator is None
                else (x.creator, x.output_index) for x in inputs)
            for out in outputs:
                out.creator = self
                out.generation = self.generation + 1
                out.requires_grad = True
        return tuple(outputs) if many else outputs[0]

    def retain_output(self, tensor: Tensor) -> None:
        """Remember (weakly) an output whose gradient backward() must store; see retain_grad."""
        if self.retained is None:
            self.retained = {}
        self.retained[tensor.output_index] = weakref.ref(tensor)

    def store_retained(self, gys) -> None:
        """Accumulate the gradients ``gys`` of the outputs asked for by retain_grad()."""
        if self.retained is None:
            return
        for i, ref in self.retained.items():
            out = ref()
            if out is not None and gys[i] is not None:
                out.grad = gys[i].copy() if out.grad is None else out.grad + gys[i]

    def release(self) -> None:
        """Drop everything saved for backward (called once the graph has been walked)."""
        self.__dict__.clear()
        self.released = True

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, *gys):
        raise NotImplementedError


def _check_float_dtypes(fn: Function, inputs) -> None:
    """DtypeError when an op's float operands have different dtypes (never mixed silently)."""
    first = None
    for x in inputs:
        dtype = x.data.dtype
        if dtype.kind == "f":
            if first is None:
                first = dtype
            elif dtype != first:
                names = ", ".join(sorted({first.name, dtype.name}))
                raise DtypeError(f"{type(fn).__name__}: operands have different float dtypes "
                                 f"{names}; dlx never mixes them silently: cast one "
                                 "(x.astype / model.to(dtype)) or set dlx.set_default_dtype")
