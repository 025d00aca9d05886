"""L2 regularisation as a differentiable penalty added to the cost.

    J_reg = J + sum over layers l of (lambda_l / (2 m)) * ||W[l]||_F^2

Autodiff then adds (lambda_l / m) * W[l] to each dW[l] (the course's "weight decay").
Weights are a module's own Parameters with two or more dimensions (Dense W, conv kernels);
biases (its 1-D Parameter ``b``) join only with ``include_bias=True``; batch-norm gamma and
beta never do. lambda_l is the module's ``l2`` attribute when set (``Dense(..., l2=0.1)``),
else the model-wide ``lambd``.
"""

from __future__ import annotations

from dlx.core import Function, Parameter, Tensor
from dlx.errors import ConfigError


class SquaredNorm(Function):
    """s = c * sum(w^2) (a 0-d array); ds/dw = 2 c w."""

    def __init__(self, c: float):
        self.c = c

    def forward(self, w):
        self.w = w
        flat = w.reshape(-1)
        return self.xp.asarray(self.c * (flat @ flat), dtype=w.dtype)

    def backward(self, gy):
        return self.w * (2.0 * self.c * gy)


def regularized_parameters(model, lambd: float = 0.0, include_bias: bool = False):
    """(parameter, lambda) for every parameter the penalty covers with a nonzero lambda."""
    pairs = []
    for module in model.modules():
        strength = getattr(module, "l2", None)
        strength = lambd if strength is None else strength
        if strength < 0:
            raise ConfigError(f"L2: lambda must be >= 0, got {strength} for "
                              f"{type(module).__name__}")
        if strength == 0:
            continue
        for name, value in vars(module).items():
            if isinstance(value, Parameter) and (value.ndim >= 2 or
                                                 (include_bias and name == "b")):
                pairs.append((value, strength))
    return pairs


def l2_penalty(model, lambd: float, m: int, include_bias: bool = False) -> Tensor:
    """sum_l (lambda_l / (2 m)) ||W[l]||_F^2 as a 0-d tensor, to add to the mean cost.

    ``m``: the number of examples the cost averages over (the mini-batch size).
    """
    if int(m) <= 0:
        raise ConfigError(f"l2_penalty: m must be the positive batch size, got {m}")
    terms = [SquaredNorm(strength / (2.0 * m))(p)
             for p, strength in regularized_parameters(model, lambd, include_bias)]
    if not terms:
        return Tensor(0.0)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total
