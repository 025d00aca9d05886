"""Optimiser base class and plain gradient descent.

Optimisers update parameters in place on the device: ``W -= alpha * dW``. Per-parameter
state (velocities, squared averages) lives in ``self.state[param]`` — keyed by the Parameter
object itself, never by ``id()`` — and is saved by position in ``self.params`` so it can be
restored into a freshly built model.

A row-sparse gradient (:class:`dlx.sparse_grad.RowSparseGrad`, from
``Embedding(sparse=True)``) is applied by :meth:`Optimizer.update_rows`: the optimiser's own
``update`` runs on the touched rows alone (parameter rows and state rows gathered, updated,
written back). Rows absent from the gradient, and their state, are left untouched -- for
plain gradient descent exactly the dense step; for Momentum, RMSprop and Adam the *lazy*
variant (PyTorch's ``SparseAdam``, TensorFlow's ``LazyAdam``): an untouched row's moments are
not decayed and the row does not coast on its velocity, so it differs from the dense step.
Bias corrections use the optimiser's global step count t, as those implementations do.
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Parameter
from dlx.errors import CheckpointError, ConfigError
from dlx.sparse_grad import RowSparseGrad


class Optimizer:
    """Holds the parameters to update, the learning rate and per-parameter state.

    ``clip_norm`` / ``clip_value`` (off by default; see :mod:`dlx.optim.clipping`) clip the
    gradients at the start of every step."""

    clip_norm: float | None = None
    clip_value: float | None = None

    #: per-parameter state arrays every parameter has once a step is taken (checkpoints
    #: check them)
    state_keys: tuple = ()
    #: whether ``update`` is elementwise, so it may run on a subset of rows (row-sparse steps)
    supports_row_sparse = False

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ConfigError(f"{type(self).__name__}: no parameters to optimise")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise ConfigError(f"{type(self).__name__}: expected Parameters, got "
                                  f"{type(p).__name__}")
        if not lr > 0:
            raise ConfigError(f"{type(self).__name__}: learning rate must be > 0, got {lr}")
        self.lr = float(lr)
        self.t = 0  # number of steps taken (Adam's bias-correction counter)
        self.state: dict[Parameter, dict] = {}
        self._row_views: dict = {}  # Parameter -> its RowsOf stand-in in row-sparse steps

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def clip_gradients(self) -> None:
        """Apply the optimiser's gradient clipping options (a no-op when both are off)."""
        from dlx.optim.clipping import clip_grad_norm, clip_grad_value

        if self.clip_value is not None:
            clip_grad_value(self.params, self.clip_value)
        if self.clip_norm is not None:
            clip_grad_norm(self.params, self.clip_norm)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient and is not frozen."""
        self.clip_gradients()
        self.t += 1
        for p in self.params:
            if p.grad is None or not p.requires_grad:
                continue
            if isinstance(p.grad, RowSparseGrad):
                self.update_rows(p, p.grad)
            else:
                self.update(p, p.grad)

    def update(self, p: Parameter, g) -> None:
        raise NotImplementedError

    def update_rows(self, p: Parameter, grad: RowSparseGrad) -> None:
        """The lazy row-sparse step (see the module docstring): ``update`` on the rows
        ``grad.rows`` of ``p`` and of its state, with ``grad.values`` as their gradient."""
        if not self.supports_row_sparse:
            raise ConfigError(f"{type(self).__name__}: no row-sparse update for a gradient "
                              f"of shape {grad.shape} (from Embedding(sparse=True)); use GD, "
                              "Momentum, RMSprop or Adam, or build the Embedding with "
                              "sparse=False")
        rows = grad.rows
        full = self.row_state(p)
        view = self._row_views.setdefault(p, RowsOf())
        view.data = p.data[rows]
        self.state[view] = {key: array[rows] for key, array in full.items()}
        try:
            self.update(view, grad.values)
        finally:
            gathered = self.state.pop(view)
        p.data[rows] = view.data
        for key, array in full.items():
            array[rows] = gathered[key]

    def row_state(self, p: Parameter) -> dict:
        """{key: p's full state array} for the keys a row-sparse step gathers."""
        return {}

    # -- saving and restoring -----------------------------------------------------------------
    def state_dict(self) -> dict:
        """{'hyper': JSON-able settings, 'arrays': {'<index>.<key>': host array}}."""
        arrays = {}
        for i, p in enumerate(self.params):
            for key, value in self.state.get(p, {}).items():
                # a copy: later in-place steps must never change a saved state
                arrays[f"{i}.{key}"] = backends.backend_of(value).to_host(value).copy()
        return {"hyper": {"type": type(self).__name__, "lr": self.lr, "t": self.t,
                          **self.hyperparameters()}, "arrays": arrays}

    def load_state_dict(self, state: dict) -> None:
        hyper = state["hyper"]
        if hyper.get("type") != type(self).__name__:
            raise CheckpointError(f"optimiser state is for {hyper.get('type')}, "
                                  f"this optimiser is {type(self).__name__}")
        self.lr, self.t = float(hyper["lr"]), int(hyper["t"])
        backend = backends.current()
        self.state = {}
        for name, value in state["arrays"].items():
            index, key = name.split(".", 1)
            index = int(index)
            if index >= len(self.params):
                raise CheckpointError(f"optimiser state names parameter {index}, "
                                      f"but only {len(self.params)} are optimised")
            p = self.params[index]
            # a copy: the state is updated in place and must not alias the caller's arrays
            self.state.setdefault(p, {})[key] = backend.asarray(value, dtype=p.dtype).copy()

    def hyperparameters(self) -> dict:
        """Settings besides lr and t that define this optimiser (saved in checkpoints)."""
        return {}


class RowsOf:
    """Some rows of a parameter standing in for it during a row-sparse step (``data``
    holds a copy of the rows)."""

    data = None

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size


class GradientDescent(Optimizer):
    """W := W - alpha * dW."""

    supports_row_sparse = True

    def update(self, p, g):
        p.data -= self.lr * g


GD = GradientDescent
