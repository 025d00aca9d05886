"""Model selection with one optimising metric and satisficing constraints (course 3).

    best = select(runs, optimize="accuracy", constraints=["predict_ms <= 100"])

picks, among the runs (dicts of metrics) that meet every constraint, the one with the best
optimising metric. ``prediction_ms`` measures the prediction time such a constraint needs.
"""

from __future__ import annotations

import operator
import re
import time

from dlx.errors import ConfigError

_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
        "==": operator.eq}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|==|<|>)\s*([-+0-9.eE]+)\s*$")


def parse_constraint(text: str):
    """``"predict_ms <= 100"`` -> (metric, op symbol, bound)."""
    match = _CONSTRAINT.match(str(text))
    if not match:
        raise ConfigError(f"constraint {text!r}: expected METRIC OP NUMBER with OP one of "
                          f"{', '.join(_OPS)}, e.g. 'predict_ms <= 100'")
    name, op, bound = match.groups()
    return name, op, float(bound)


def satisfies(run: dict, constraints) -> bool:
    for name, op, bound in map(parse_constraint, constraints):
        if name not in run:
            raise ConfigError(f"constraint on {name!r}: a run has no such metric (it has "
                              f"{', '.join(sorted(run))})")
        if not _OPS[op](run[name], bound):
            return False
    return True


def select(runs, optimize: str, constraints=(), maximize: bool = True):
    """(best run or None, the feasible runs best first): maximise (or minimise) ``optimize``
    over the runs that satisfy every satisficing constraint."""
    runs = list(runs)
    if any(optimize not in run for run in runs):
        raise ConfigError(f"select: every run needs the optimising metric {optimize!r}")
    feasible = sorted((r for r in runs if satisfies(r, constraints)),
                      key=lambda r: r[optimize], reverse=maximize)
    return (feasible[0] if feasible else None), feasible


def prediction_ms(model, X, repeats: int = 5) -> float:
    """Median wall time in milliseconds of ``model.predict(X)`` (device synchronised),
    after one warm-up call."""
    from dlx import backends

    if repeats < 1:
        raise ConfigError(f"prediction_ms: repeats must be >= 1, got {repeats}")
    backend = backends.current()
    model.predict(X)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(X)
        backend.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]
