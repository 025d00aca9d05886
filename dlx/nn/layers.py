"""Dense layer, activation layers and Sequential."""

from __future__ import annotations

from dlx import init
from dlx import functional as F
from dlx.core import Parameter
from dlx.errors import ConfigError
from dlx.nn.module import Module


def _activation_fn(name):
    if name is None:
        return F.identity
    if callable(name):
        return name
    if name not in F.ACTIVATIONS:
        raise ConfigError(f"unknown activation {name!r}; expected one of "
                          f"{', '.join(F.ACTIVATIONS)} or None")
    return F.ACTIVATIONS[name]


class Dense(Module):
    """Fully connected layer: A = g(Z), Z = X @ W.T + b.

    W: (n_out, n_in) — the course's W[l] of shape (n[l], n[l-1]); b: (n_out,).
    X: (m, n_in) -> A: (m, n_out). ``init="auto"`` picks He for ReLU-family activations and
    Xavier otherwise. ``l2`` overrides the model-wide L2 strength for this layer's W.
    ``dtype``: the parameters' float dtype (default: ``dlx.get_default_dtype()``).
    """

    def __init__(self, n_in: int, n_out: int, activation=None, init_method="auto",
                 bias: bool = True, l2: float | None = None, dtype=None):
        super().__init__()
        if int(n_in) <= 0 or int(n_out) <= 0:
            raise ConfigError(f"Dense: n_in and n_out must be positive, got {n_in}, {n_out}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.activation = activation if isinstance(activation, str) or activation is None \
            else getattr(activation, "__name__", "custom")
        self._g = _activation_fn(activation)
        initialiser = init.get(init_method, self.activation)
        self.W = Parameter(initialiser((self.n_out, self.n_in)), name="W")
        self.b = Parameter(init.zeros((self.n_out,)), name="b") if bias else None
        self.l2 = l2
        if dtype is not None:
            self.to(dtype)

    def forward(self, x):
        return self.forward_parts(x)[1]

    def forward_parts(self, x):
        """(Z, A): the pre-activation Z = X @ W.T + b and the output A = g(Z)."""
        z = F.linear(x, self.W, self.b)
        return z, self._g(z)

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation!r})"


class Activation(Module):
    """An activation function as a layer, e.g. ``Activation("relu")``."""

    def __init__(self, name, **kwargs):
        super().__init__()
        self.activation = name
        self._g = _activation_fn(name)
        self.kwargs = kwargs

    def forward(self, x):
        return self._g(x, **self.kwargs)

    def __repr__(self):
        return f"Activation({self.activation!r})"


class ReLU(Activation):
    def __init__(self):
        super().__init__("relu")


class LeakyReLU(Activation):
    def __init__(self, slope: float = 0.01):
        super().__init__("leaky_relu", slope=slope)


class Sigmoid(Activation):
    def __init__(self):
        super().__init__("sigmoid")


class Tanh(Activation):
    def __init__(self):
        super().__init__("tanh")


class Softmax(Activation):
    def __init__(self):
        super().__init__("softmax")


class Sequential(Module):
    """Layers applied in order: ``Sequential(Dense(2, 8, "relu"), Dense(8, 1))``."""

    def __init__(self, *layers: Module, dtype=None):
        super().__init__()
        for layer in layers:
            if not isinstance(layer, Module):
                raise ConfigError(f"Sequential: every layer must be a Module, got "
                                  f"{type(layer).__name__}")
        self.layers = list(layers)
        if dtype is not None:
            self.to(dtype)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

