"""RMSprop (the course's): divide the step by a running root mean square of the gradient.

    s := beta2 * s + (1 - beta2) * dW^2       (s starts at 0, elementwise square)
    W := W - alpha * dW / (sqrt(s) + epsilon) (epsilon outside the square root)
"""

from __future__ import annotations

from dlx.errors import ConfigError
from dlx.optim.inplace import InPlaceOptimizer


class RMSprop(InPlaceOptimizer):
    state_keys = ("s",)  # per-parameter state arrays once a step is taken

    def __init__(self, params, lr: float = 0.001, beta2: float = 0.999, epsilon: float = 1e-8):
        super().__init__(params, lr)
        if not 0.0 <= beta2 < 1.0 or not epsilon > 0:
            raise ConfigError(f"RMSprop: need 0 <= beta2 < 1 and epsilon > 0, got "
                              f"beta2={beta2}, epsilon={epsilon}")
        self.beta2, self.epsilon = float(beta2), float(epsilon)

    def update(self, p, g):
        xp = self.xp_of(p)
        (s,), tmp = self.zeros_state(p, "s"), self.scratch(p)
        s *= self.beta2
        xp.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        s += tmp
        xp.sqrt(s, out=tmp)
        tmp += self.epsilon
        xp.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p.data -= tmp

    def hyperparameters(self):
        return {"beta2": self.beta2, "epsilon": self.epsilon}
