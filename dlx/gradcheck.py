"""Gradient checking, as the course teaches it and a cheaper directional variant.

Both compare the analytic gradient from ``backward()`` with a centred difference
(J(theta + eps) - J(theta - eps)) / (2 eps) in float64 and report the relative difference
||g - g_num|| / (||g|| + ||g_num||); below 1e-7 is a pass.

``fn`` is a zero-argument callable returning the cost tensor; ``tensors`` are the leaves
whose ``.data`` is perturbed (parameters or inputs, float64). A non-scalar output is reduced
to a scalar by a fixed random projection, so any op can be checked.
"""

from __future__ import annotations

import math

from dlx import backends
from dlx.core import Tensor
from dlx.errors import DtypeError


def _scalar_cost(fn, projection_seed=0):
    weights = {}

    def cost():
        out = fn()
        if out.size == 1:
            return out.reshape(())
        if "w" not in weights:
            backend = backends.current()
            gen = backends.get("numpy").xp.random.default_rng(projection_seed)
            weights["w"] = Tensor(backend.asarray(gen.standard_normal(out.shape)))
        return (out * weights["w"]).sum()

    return cost


def _analytic(cost, tensors):
    for t in tensors:
        t.grad = None
    c = cost()
    c.backward()
    xp = backends.current().xp
    return [xp.zeros_like(t.data) if t.grad is None else t.grad.copy() for t in tensors]


def _value(cost) -> float:
    return float(backends.current().to_host(cost().data))


def _check_float64(tensors):
    for t in tensors:
        if t.dtype.name != "float64":
            raise DtypeError(f"gradient checks need float64 tensors, got {t.dtype}; build the "
                             "model or inputs with dtype float64")


def _relative(num, den) -> float:
    return 0.0 if den == 0 else num / den


def gradient_check(fn, tensors, eps: float = 1e-7) -> float:
    """The course's check: perturb every element of every tensor in turn.

    Returns ||g - g_num|| / (||g|| + ||g_num||) over the flattened parameter vector.
    Cost: 2 forward passes per element, so use it on small models.
    """
    tensors = list(tensors)
    _check_float64(tensors)
    cost = _scalar_cost(fn)
    grads = _analytic(cost, tensors)
    xp = backends.current().xp
    diff2 = g2 = n2 = 0.0
    for t, g in zip(tensors, grads):
        if not t.data.flags.c_contiguous:
            t.data = xp.ascontiguousarray(t.data)
        flat = t.data.reshape(-1)  # a view: perturbing it perturbs t.data
        numeric = xp.empty_like(flat)
        for i in range(flat.size):
            original = float(flat[i])
            flat[i] = original + eps
            plus = _value(cost)
            flat[i] = original - eps
            minus = _value(cost)
            flat[i] = original
            numeric[i] = (plus - minus) / (2 * eps)
        g = g.reshape(-1)
        diff2 += float(((g - numeric) ** 2).sum())
        g2 += float((g ** 2).sum())
        n2 += float((numeric ** 2).sum())
    return _relative(math.sqrt(diff2), math.sqrt(g2) + math.sqrt(n2))


def directional_check(fn, tensors, eps: float = 1e-6, n_directions: int = 2,
                      seed: int = 0) -> float:
    """Random-projection check: compare g . v with (J(theta + eps v) - J(theta - eps v)) / 2eps.

    v is a random unit direction over all tensors together; the worst relative difference
    over ``n_directions`` directions is returned. Costs 2 forward passes per direction.
    """
    tensors = list(tensors)
    _check_float64(tensors)
    cost = _scalar_cost(fn)
    grads = _analytic(cost, tensors)
    backend = backends.current()
    gen = backends.get("numpy").xp.random.default_rng(seed)
    worst = 0.0
    for _ in range(n_directions):
        dirs = [backend.asarray(gen.standard_normal(t.shape)) for t in tensors]
        norm = math.sqrt(sum(float((d * d).sum()) for d in dirs)) or 1.0
        dirs = [d / norm for d in dirs]
        originals = [t.data for t in tensors]
        for t, d in zip(tensors, dirs):
            t.data = t.data + eps * d
        plus = _value(cost)
        for t, o, d in zip(tensors, originals, dirs):
            t.data = o - eps * d
        minus = _value(cost)
        for t, o in zip(tensors, originals):
            t.data = o
        numeric = (plus - minus) / (2 * eps)
        analytic = sum(float((g * d).sum()) for g, d in zip(grads, dirs))
        worst = max(worst, _relative(abs(analytic - numeric), abs(analytic) + abs(numeric)))
    return worst
