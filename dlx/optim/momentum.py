"""Gradient descent with momentum (the course's exponentially weighted average of gradients).

    v := beta * v + (1 - beta) * dW          (v starts at 0)
    W := W - alpha * v                        (or alpha * v / (1 - beta^t) with bias_correction)
"""

from __future__ import annotations

from dlx.errors import ConfigError
from dlx.optim.inplace import InPlaceOptimizer


class Momentum(InPlaceOptimizer):
    state_keys = ("v",)  # per-parameter state arrays once a step is taken

    def __init__(self, params, lr: float = 0.01, beta: float = 0.9,
                 bias_correction: bool = False):
        super().__init__(params, lr)
        if not 0.0 <= beta < 1.0:
            raise ConfigError(f"Momentum: beta must be in [0, 1), got {beta}")
        self.beta, self.bias_correction = float(beta), bool(bias_correction)

    def update(self, p, g):
        (v,), tmp = self.zeros_state(p, "v"), self.scratch(p)
        v *= self.beta
        self.xp_of(p).multiply(g, 1.0 - self.beta, out=tmp)
        v += tmp
        step = self.lr / (1.0 - self.beta ** self.t) if self.bias_correction else self.lr
        self.xp_of(p).multiply(v, step, out=tmp)
        p.data -= tmp

    def hyperparameters(self):
        return {"beta": self.beta, "bias_correction": self.bias_correction}
