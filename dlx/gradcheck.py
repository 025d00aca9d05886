"""Gradient checking, as the course teaches it and a cheaper directional variant.

Both compare an analytic gradient with a centred difference
(J(theta + eps) - J(theta - eps)) / (2 eps) in float64 and report the relative difference
||g - g_num|| / (||g|| + ||g_num||); below 1e-7 is a pass.

``fn`` is a zero-argument callable returning the cost; ``tensors`` are what is perturbed:
a list of Tensors, a dict ``{name: Tensor or float64 array}``, or a Module (its named
parameters). The analytic gradient is ``backward()``'s, or -- to check a hand-written
backprop as the course's assignment does -- the user's own ``grads``: a dict ``{name:
array}`` (or a list in the order of ``tensors``), or a callable returning one. With
``grads``, ``fn`` may return a plain number and the tensors may be plain arrays that the
user's forward pass reads (they are perturbed in place).

Without ``grads`` a non-scalar output is reduced to a scalar by a fixed random projection,
so any op can be checked. A tensor the cost does not depend on (no gradient from
``backward()``, or a gradient that is exactly zero both ways) would make the check pass
while checking nothing: it is refused with a ConfigError naming it, unless
``allow_unused=True``, which leaves it out and lists it in the report's ``unused``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dlx import backends
from dlx.core import Tensor
from dlx.errors import ConfigError, DtypeError, ShapeError

COURSE_EPS = 1e-7
PASS_THRESHOLD = 1e-7


@dataclass
class GradCheckReport:
    """``difference`` over all checked tensors together; ``per_tensor`` the same formula for
    each name alone; ``unused`` the names left out because the cost does not depend on them."""

    difference: float
    per_tensor: dict = field(default_factory=dict)
    unused: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.difference < PASS_THRESHOLD


def _named(tensors) -> dict:
    """{name: Tensor or array} from a list, a dict or a Module."""
    if hasattr(tensors, "named_parameters"):
        return dict(tensors.named_parameters())
    if isinstance(tensors, dict):
        return dict(tensors)
    return {f"{getattr(t, 'name', None) or 'tensors'}[{i}]": t for i, t in enumerate(tensors)}


def _array(t):
    return t.data if isinstance(t, Tensor) else t


def _check_inputs(name, tensors: dict, eps: float):
    if not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps <= 0:
        raise ConfigError(f"{name}: eps must be a positive finite number, got {eps!r} "
                          f"(the course's gradient check uses {COURSE_EPS})")
    if not tensors:
        raise ConfigError(f"{name}: no tensors to check")
    backend = backends.current()
    for key, t in tensors.items():
        a = _array(t)
        if not backend.owns(a):
            raise DtypeError(f"{name}: {key!r} must be a Tensor or a {backend.name} array, got "
                             f"{type(t).__name__}")
        if a.dtype.name != "float64":
            raise DtypeError(f"{name}: gradient checks need float64 tensors, got {a.dtype} for "
                             f"{key!r}; build the model or inputs with dtype float64")
        if not isinstance(t, Tensor) and not (a.flags.c_contiguous and a.flags.writeable):
            raise ConfigError(f"{name}: array {key!r} must be C-contiguous and writeable so it "
                              "can be perturbed in place (np.ascontiguousarray before building "
                              "the model)")


def _value(cost) -> float:
    out = cost()
    if isinstance(out, Tensor):
        out = out.data
    if backends.current().owns(out) or type(out).__module__.startswith("cupy"):
        out = backends.backend_of(out).to_host(out).reshape(())
    return float(out)


def _scalar_cost(name, fn, projection_seed=0):
    weights = {}

    def cost():
        out = fn()
        if not isinstance(out, Tensor):
            raise DtypeError(f"{name}: fn must return a Tensor when no grads= are "
                             f"given (backward() computes them), got {type(out).__name__}")
        if out.size == 1:
            return out.reshape(())
        if "w" not in weights:
            backend = backends.current()
            gen = backends.get("numpy").xp.random.default_rng(projection_seed)
            weights["w"] = Tensor(backend.asarray(gen.standard_normal(out.shape)))
        return (out * weights["w"]).sum()

    return cost


def _scalar_only(fn):
    def cost():
        out = fn()
        size = getattr(out, "size", 1)
        if size != 1:
            raise ShapeError("gradient_check with grads=: fn must return the scalar cost, got "
                             f"shape {getattr(out, 'shape', None)}")
        return out

    return cost


def _backward_grads(name, cost, tensors: dict) -> dict:
    """{name: d cost / d tensor, or None where backward() gave none}."""
    for key, t in tensors.items():
        if not isinstance(t, Tensor):
            raise DtypeError(f"{name}: {key!r} is a plain array; pass grads= (your own "
                             "gradients) to check arrays, or use Tensors")
        t.grad = None
    cost().backward()
    return {k: None if t.grad is None else t.grad.copy() for k, t in tensors.items()}


def _user_grads(grads, tensors: dict) -> dict:
    """The user's gradients as {name: float64 array}, checked against the tensors."""
    if callable(grads):
        grads = grads()
    if not isinstance(grads, dict):
        grads = list(grads)
        if len(grads) != len(tensors):
            raise ConfigError(f"gradient_check: {len(grads)} gradients for {len(tensors)} "
                              "tensors; give one per tensor, in their order")
        grads = dict(zip(tensors, grads))
    missing, extra = set(tensors) - set(grads), set(grads) - set(tensors)
    if missing or extra:
        raise ConfigError(f"gradient_check: grads must have one entry per tensor; missing "
                          f"{sorted(missing)}, unexpected {sorted(extra)} (name the tensors "
                          "with a dict, or give grads as a list in their order)")
    backend = backends.current()
    out = {}
    for key, t in tensors.items():
        g = grads[key]
        g = backend.asarray(g.data if isinstance(g, Tensor) else g, dtype="float64")
        if g.shape != _array(t).shape:
            raise ShapeError(f"gradient_check: grads[{key!r}] has shape {g.shape}, the tensor "
                             f"has {_array(t).shape}")
        out[key] = g
    return out


def _numeric(cost, t, eps: float):
    """Centred differences of ``cost`` for every element of ``t`` (same shape as t)."""
    xp = backends.current().xp
    if isinstance(t, Tensor) and not t.data.flags.c_contiguous:
        t.data = xp.ascontiguousarray(t.data)
    a = _array(t)
    flat = a.reshape(-1)  # a view: perturbing it perturbs the tensor
    numeric = xp.empty_like(flat)
    for i in range(flat.size):
        original = float(flat[i])
        flat[i] = original + eps
        plus = _value(cost)
        flat[i] = original - eps
        minus = _value(cost)
        flat[i] = original
        numeric[i] = (plus - minus) / (2 * eps)
    return numeric.reshape(a.shape)


def _is_zero(g) -> bool:
    return g is None or not bool((g != 0).any())


def _refuse_unused(name, unused, allow_unused):
    if unused and not allow_unused:
        raise ConfigError(f"{name}: the cost does not depend on {', '.join(map(repr, unused))} "
                          "(its gradient is zero, so the check would pass without checking "
                          "it); remove it from the tensors, or pass allow_unused=True to skip "
                          "it and list it in the report")


def gradient_check_report(fn, tensors, eps: float = COURSE_EPS, grads=None,
                          allow_unused: bool = False) -> GradCheckReport:
    """The course's check: perturb every element of every tensor in turn.

    Returns the relative difference ||g - g_num|| / (||g|| + ||g_num||) over the flattened
    vector of all tensors, and the same per tensor. Cost: 2 forward passes per element, so
    use it on small models.
    """
    named = _named(tensors)
    _check_inputs("gradient_check", named, eps)
    if grads is None:
        cost = _scalar_cost("gradient_check", fn)
        analytic = _backward_grads("gradient_check", cost, named)
    else:
        cost = _scalar_only(fn)
        analytic = _user_grads(grads, named)
    report = GradCheckReport(0.0)
    diff2 = g2 = n2 = 0.0
    xp = backends.current().xp
    for key, t in named.items():
        numeric = _numeric(cost, t, eps)
        g = analytic[key]
        if _is_zero(g) and _is_zero(numeric):
            report.unused.append(key)
            continue
        g = xp.zeros_like(numeric) if g is None else g
        d, a, n = (float(((g - numeric) ** 2).sum()), float((g ** 2).sum()),
                   float((numeric ** 2).sum()))
        report.per_tensor[key] = math.sqrt(d) / (math.sqrt(a) + math.sqrt(n))
        diff2, g2, n2 = diff2 + d, g2 + a, n2 + n
    _refuse_unused("gradient_check", report.unused, allow_unused)
    if not report.per_tensor:
        raise ConfigError("gradient_check: the cost depends on none of the tensors; nothing "
                          "was checked")
    report.difference = math.sqrt(diff2) / (math.sqrt(g2) + math.sqrt(n2))
    return report


def gradient_check(fn, tensors, eps: float = COURSE_EPS, grads=None,
                   allow_unused: bool = False) -> float:
    """The course's relative difference (see :func:`gradient_check_report`); < 1e-7 passes.

    ``grads``: your own gradients to check instead of ``backward()``'s -- a dict keyed like
    ``tensors`` (names of a dict or Module), a list in the order of ``tensors``, or a
    callable returning either.
    """
    return gradient_check_report(fn, tensors, eps, grads, allow_unused).difference


def directional_check(fn, tensors, eps: float = 1e-6, n_directions: int = 2,
                      seed: int = 0, allow_unused: bool = False) -> float:
    """Random-projection check: compare g . v with (J(theta + eps v) - J(theta - eps v)) / 2eps.

    v is a random unit direction over all tensors together; the worst relative difference
    over ``n_directions`` directions is returned. Costs 2 forward passes per direction.
    A tensor that gets no gradient from ``backward()`` is refused as in gradient_check.
    """
    named = _named(tensors)
    _check_inputs("directional_check", named, eps)
    cost = _scalar_cost("directional_check", fn)
    grads = _backward_grads("directional_check", cost, named)
    _refuse_unused("directional_check", [k for k, g in grads.items() if g is None], allow_unused)
    tensors = [named[k] for k, g in grads.items() if g is not None]
    grads = [g for g in grads.values() if g is not None]
    if not tensors:
        raise ConfigError("directional_check: the cost depends on none of the tensors; nothing "
                          "was checked")
    backend = backends.current()
    gen = backends.get("numpy").xp.random.default_rng(seed)
    worst, compared = 0.0, False
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
        den = abs(analytic) + abs(numeric)
        if den:
            compared = True
            worst = max(worst, abs(analytic - numeric) / den)
    if not compared:
        raise ConfigError("directional_check: the gradient is zero both ways along every "
                          "direction; nothing was checked")
    return worst
