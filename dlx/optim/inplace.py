"""Base for optimisers that update in place with preallocated per-parameter arrays.

State arrays (velocities, squared averages) start at zero and are saved with the optimiser;
scratch arrays hold temporaries so a step allocates nothing. Gradients are only read, never
written (they may alias other arrays).

When every parameter has a gradient and all share one dtype and array type, a step runs the
subclass's ``update`` once over all parameters as one flat vector (:class:`FlatGroup`): a
dozen array calls per step instead of a dozen per parameter, which is most of an Adam step
on a small network. Elementwise maths gives the same bits either way; per-parameter state
arrays are views into the flat ones, so saving, restoring and a step where some parameter
has no gradient all see the same numbers.
"""

from __future__ import annotations

from dlx import backends
from dlx.optim.optimizer import Optimizer
from dlx.sparse_grad import RowSparseGrad


class FlatGroup:
    """All parameters of an optimiser as one vector, an update target standing in for them.

    ``data`` receives the update (it starts each step at zero, so after ``update`` it holds
    minus the step), ``grad`` the concatenated gradients; :meth:`view` maps a flat array to
    one parameter's slice in its shape.
    """

    def __init__(self, params):
        xp = backends.backend_of(params[0].data).xp
        self.params = params
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p.size
        self.dtype, self.shape, self.size = params[0].dtype, (total,), total
        self.data = xp.zeros(total, dtype=self.dtype)
        self.grad = xp.empty(total, dtype=self.dtype)
        self._updates = [self.view(self.data, i) for i in range(len(params))]
        self._grads = [self.view(self.grad, i) for i in range(len(params))]

    @classmethod
    def build(cls, params):
        """A group of ``params``, or None when they mix dtypes or array types."""
        first = params[0].data
        if any(type(p.data) is not type(first) or p.dtype != first.dtype for p in params):
            return None
        return cls(params)

    def view(self, flat, index: int):
        p = self.params[index]
        start = self.offsets[index]
        return flat[start:start + p.size].reshape(p.shape)

    def gather_grads(self) -> None:
        for p, slot in zip(self.params, self._grads):
            slot[...] = p.grad

    def apply(self) -> None:
        """Add the accumulated update to every parameter, in place."""
        for p, update in zip(self.params, self._updates):
            p.data += update


class InPlaceOptimizer(Optimizer):
    supports_row_sparse = True  # the updates are elementwise

    def __init__(self, params, lr: float):
        super().__init__(params, lr)
        self._scratch_arrays: dict = {}
        self.flat = FlatGroup.build(self.params)
        self._flat_state: dict = {}  # key -> the flat array the per-parameter views share

    @staticmethod
    def xp_of(p):
        return backends.backend_of(p.data).xp

    def step(self) -> None:
        """One update of every parameter with a gradient (flat when all of them have one)."""
        if self.flat is None or any(p.grad is None or not p.requires_grad
                                    or isinstance(p.grad, RowSparseGrad) for p in self.params):
            return super().step()
        self.clip_gradients()
        self.t += 1
        flat = self.flat
        flat.gather_grads()
        flat.data.fill(0)
        self.update(flat, flat.grad)
        flat.apply()

    def zeros_state(self, p, *keys):
        """The state arrays ``keys`` of ``p`` (zeros on first use; views of the flat state)."""
        for key in keys:
            if key not in self.state.get(self.params[0], {}):
                self._create_state(key)
        if p is self.flat:
            return [self._flat_state[key] for key in keys]
        return [self.state[p][key] for key in keys]

    def row_state(self, p) -> dict:
        return dict(zip(self.state_keys, self.zeros_state(p, *self.state_keys)))

    def _create_state(self, key) -> None:
        if self.flat is None:
            for p in self.params:
                self.state.setdefault(p, {})[key] = self.xp_of(p).zeros_like(p.data)
            return
        whole = self._flat_state[key] = self.xp_of(self.flat).zeros_like(self.flat.data)
        for i, p in enumerate(self.params):
            self.state.setdefault(p, {})[key] = self.flat.view(whole, i)

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if self.flat is None:
            return
        loaded = {p: self.state.get(p, {}) for p in self.params}
        self.state, self._flat_state = {}, {}
        for key in {k for values in loaded.values() for k in values}:
            self._create_state(key)
            for p, values in loaded.items():
                if key in values:
                    self.state[p][key][...] = values[key]

    def scratch(self, p):
        """A temporary array like ``p.data`` (reused across steps; not saved)."""
        buf = self._scratch_arrays.get(p)
        if buf is None or type(buf) is not type(p.data) or buf.shape != p.shape \
                or buf.dtype != p.dtype:
            buf = self._scratch_arrays[p] = self.xp_of(p).empty_like(p.data)
        return buf
