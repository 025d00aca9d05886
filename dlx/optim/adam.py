"""Adam (the course's): momentum and RMSprop together, bias-corrected with the step count t.

    v := beta1 * v + (1 - beta1) * dW         v_corr = v / (1 - beta1^t)
    s := beta2 * s + (1 - beta2) * dW^2       s_corr = s / (1 - beta2^t)
    W := W - alpha * v_corr / (sqrt(s_corr) + epsilon)

Computed in place with one scratch array per parameter, folding the corrections into scalars:
sqrt(s_corr) = sqrt(s) / sqrt(1 - beta2^t) and alpha * v_corr = (alpha / (1 - beta1^t)) * v.
"""

from __future__ import annotations

import math

from dlx.errors import ConfigError
from dlx.optim.inplace import InPlaceOptimizer


class Adam(InPlaceOptimizer):
    state_keys = ("v", "s")  # per-parameter state arrays once a step is taken

    def __init__(self, params, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8):
        super().__init__(params, lr)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0 and epsilon > 0):
            raise ConfigError(f"Adam: need 0 <= beta1, beta2 < 1 and epsilon > 0, got "
                              f"beta1={beta1}, beta2={beta2}, epsilon={epsilon}")
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

    def update(self, p, g):
        xp = self.xp_of(p)
        (v, s), tmp = self.zeros_state(p, "v", "s"), self.scratch(p)
        b1, b2, t = self.beta1, self.beta2, self.t
        xp.multiply(g, 1.0 - b1, out=tmp)
        v *= b1
        v += tmp
        xp.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        s *= b2
        s += tmp
        xp.sqrt(s, out=tmp)
        tmp *= 1.0 / math.sqrt(1.0 - b2 ** t)
        tmp += self.epsilon
        xp.divide(v, tmp, out=tmp)
        tmp *= self.lr / (1.0 - b1 ** t)
        p.data -= tmp

    def hyperparameters(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}
