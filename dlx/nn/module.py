"""Module: a callable with parameters, buffers and sub-modules, found by attribute order."""

from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

from dlx import backends
from dlx.core import Parameter, Tensor


class Module:
    """Base class of layers and models.

    Parameters (``Parameter``), buffers (arrays registered with :meth:`register_buffer`, such
    as batch-norm running statistics) and sub-modules are discovered from the attributes in
    the order they were set, so names like ``layers.0.W`` are stable across runs.
    """

    training: bool = True

    def __init__(self):
        object.__setattr__(self, "_buffers", OrderedDict())
        self.training = True

    def __setattr__(self, name, value):
        if "_buffers" not in self.__dict__:
            object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, name, value)

    #: an integer/bool input (the first argument) is cast to the module's dtype at the call;
    #: set True in layers that take indices, such as an embedding. Further arguments (e.g.
    #: ``lengths``) are never cast.
    accepts_integer_input: bool = False

    def __call__(self, *args, **kwargs):
        if args and not self.accepts_integer_input:
            args = (_float_input(self, args[0]),) + args[1:]
        return self.forward(*args, **kwargs)

    @property
    def dtype(self):
        """The float dtype of the parameters (the default dtype for a parameter-less one)."""
        for p in self.parameters():
            if p.dtype.kind == "f":
                return p.dtype
        return backends.current().default_dtype

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    # -- discovery ----------------------------------------------------------------------------
    def children(self) -> Iterator[tuple[str, "Module"]]:
        for name, value in self.__dict__.items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for name, value in self.__dict__.items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.children():
            yield from child.named_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def register_buffer(self, name: str, array) -> None:
        """Keep ``array`` as state that is saved and moved but not trained."""
        self._buffers[name] = None
        object.__setattr__(self, name, array)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, object]]:
        for name in self._buffers:
            yield prefix + name, getattr(self, name)
        for name, child in self.children():
            yield from child.named_buffers(f"{prefix}{name}.")

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """(dotted prefix, module) for this module and every descendant."""
        yield prefix, self
        for name, child in self.children():
            yield from child.named_modules(f"{prefix}{name}.")

    def modules(self) -> Iterator["Module"]:
        return (m for _, m in self.named_modules())

    # -- modes and state ------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def state_dict(self) -> "OrderedDict[str, object]":
        """Copies of the parameters and buffers as host NumPy arrays, keyed by dotted name.

        Copies, so later in-place updates of the model never change a saved state."""
        state = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = p.to_numpy().copy()
        for name, buf in self.named_buffers():
            state[name] = backends.backend_of(buf).to_host(buf).copy()
        return state

    def load_state_dict(self, state) -> None:
        """Copy arrays (host or device) into parameters and buffers on the active backend."""
        from dlx.errors import CheckpointError

        backend = backends.current()
        expected = {n for n, _ in self.named_parameters()} | {n for n, _ in self.named_buffers()}
        missing, unexpected = expected - set(state), set(state) - expected
        if missing or unexpected:
            raise CheckpointError(f"state does not fit {type(self).__name__}: missing "
                                  f"{sorted(missing)}, unexpected {sorted(unexpected)}")
        for name, p in self.named_parameters():
            value = backend.asarray(state[name])
            if value.shape != p.shape:
                raise CheckpointError(f"{name}: saved shape {value.shape}, model has {p.shape}")
            p.data = value.astype(p.dtype, copy=True)  # never adopt the caller's array
            p.grad = None
        for prefix, module in self.named_modules():
            for name in module._buffers:
                value = backend.asarray(state[prefix + name])
                current = getattr(module, name)
                if current is not None and value.shape != current.shape:
                    raise CheckpointError(f"{prefix + name}: saved shape {value.shape}, model "
                                          f"has {current.shape}")
                object.__setattr__(module, name, value.copy())

    def to(self, target) -> "Module":
        """Move every parameter and buffer to a backend (name or Backend), or cast the float
        ones to a dtype (``model.to("float64")``); returns self."""
        if not isinstance(target, backends.Backend) and str(target).lower() not in \
                backends.NAMES + ("auto",):
            return self._cast(target)
        target = backends.get(target)
        for p in self.parameters():
            host = backends.backend_of(p.data).to_host(p.data)
            p.data = target.asarray(host)
            p.grad = None
        for module in self.modules():
            for name in module._buffers:
                buf = getattr(module, name)
                object.__setattr__(module, name,
                                   target.asarray(backends.backend_of(buf).to_host(buf)))
        return self

    def _cast(self, dtype) -> "Module":
        name = backends.resolve_float_dtype(dtype, f"{type(self).__name__}.to")
        for p in self.parameters():
            if p.dtype.kind == "f":
                p.data = p.data.astype(name)
                p.grad = None
        for module in self.modules():
            for buf_name in module._buffers:
                buf = getattr(module, buf_name)
                if buf is not None and buf.dtype.kind == "f":
                    object.__setattr__(module, buf_name, buf.astype(name))
        return self

    # -- training (thin wrappers over dlx.train; see there for the arguments) -----------------
    def fit(self, train, dev=None, **kwargs):
        """Train on ``train`` = (X, y); returns a History. See ``dlx.train.fit``."""
        from dlx.train import fit

        return fit(self, train, dev, **kwargs)

    def evaluate(self, data, **kwargs) -> dict:
        """{"cost", "accuracy"} on ``data`` = (X, y). See ``dlx.train.evaluate``."""
        from dlx.train import evaluate

        return evaluate(self, data, **kwargs)

    def predict(self, X, **kwargs):
        """Predicted class labels (host array). See ``dlx.train.predict``."""
        from dlx.train import predict

        return predict(self, X, **kwargs)

    def predict_proba(self, X, **kwargs):
        """Class probabilities (host array (m, K)). See ``dlx.train.predict_proba``."""
        from dlx.train import predict_proba

        return predict_proba(self, X, **kwargs)

    def summary(self, input_shape=None, **kwargs) -> str:
        """Print layers, output shapes and parameter counts. See ``dlx.train.summary``."""
        from dlx.train import summary

        return summary(self, input_shape, **kwargs)

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        for name, child in self.children():
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        return "\n".join(lines) + ")" if len(lines) > 1 else f"{type(self).__name__}()"


def _float_input(module: Module, x):
    """Integer/bool inputs (Tensor or array) cast to ``module.dtype``; others unchanged."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or dtype.kind not in "biu":
        return x
    data = x.data if isinstance(x, Tensor) else backends.current().asarray(x)
    return Tensor(data.astype(module.dtype))
