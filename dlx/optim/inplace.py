"""Base for optimisers that update in place with preallocated per-parameter arrays.

State arrays (velocities, squared averages) start at zero and are saved with the optimiser;
one scratch array per parameter holds temporaries so a step allocates nothing. Gradients are
only read, never written (they may alias other arrays).
"""

from __future__ import annotations

from dlx import backends
from dlx.optim.optimizer import Optimizer


class InPlaceOptimizer(Optimizer):
    def __init__(self, params, lr: float):
        super().__init__(params, lr)
        self._scratch_arrays: dict = {}

    @staticmethod
    def xp_of(p):
        return backends.backend_of(p.data).xp

    def zeros_state(self, p, *keys):
        """The state arrays ``keys`` of ``p`` (created as zeros like p on first use)."""
        state = self.state.setdefault(p, {})
        for key in keys:
            if key not in state:
                state[key] = self.xp_of(p).zeros_like(p.data)
        return [state[key] for key in keys]

    def scratch(self, p):
        """A temporary array like ``p.data`` (reused across steps; not saved)."""
        buf = self._scratch_arrays.get(p)
        if buf is None or type(buf) is not type(p.data) or buf.shape != p.shape \
                or buf.dtype != p.dtype:
            buf = self._scratch_arrays[p] = self.xp_of(p).empty_like(p.data)
        return buf
