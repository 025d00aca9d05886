"""Random hyperparameter search on the right scale (course 2, week 3).

Sample at random rather than on a grid, and sample learning rates and 1 - beta on a log
scale: ``alpha = 10 ** uniform(log10(lo), log10(hi))``.

Each distribution draws from a ``random.Random`` (:func:`random_search`) or asks an Optuna
trial (``suggest``, used by ``dlx search``); ``to_scale``/``with_bounds`` express it on
the axis it is sampled on (log10 for log scales), which :func:`zoom` uses for
coarse-to-fine search. :func:`parse_space` reads the command line's ``name=kind:args``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable

from dlx.errors import ConfigError


@dataclass(frozen=True)
class LogUniform:
    """10 ** U(log10(low), log10(high)) — for learning rates, L2 strength."""

    low: float
    high: float
    log = True

    def __post_init__(self):
        if not 0 < self.low < self.high:
            raise ConfigError(f"LogUniform needs 0 < low < high, got {self.low}, {self.high}")

    def sample(self, rng: random.Random) -> float:
        return 10 ** rng.uniform(math.log10(self.low), math.log10(self.high))

    def suggest(self, trial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=True)

    def to_scale(self, value) -> float:
        return math.log10(value)

    def with_bounds(self, a: float, b: float):
        return LogUniform(10 ** a, 10 ** b)


@dataclass(frozen=True)
class OneMinusLogUniform:
    """beta = 1 - 10 ** r, r ~ U(log10(1 - high), log10(1 - low)) — for momentum betas in
    [0.9, 0.999]; Optuna sees the parameter ``1-<name>`` on a log scale."""

    low: float
    high: float
    log = True

    def __post_init__(self):
        if not 0 <= self.low < self.high < 1:
            raise ConfigError(f"OneMinusLogUniform needs 0 <= low < high < 1, got {self.low}, "
                              f"{self.high}")

    def sample(self, rng: random.Random) -> float:
        return 1 - LogUniform(1 - self.high, 1 - self.low).sample(rng)

    def suggest(self, trial, name: str) -> float:
        return 1 - trial.suggest_float(f"1-{name}", 1 - self.high, 1 - self.low, log=True)

    def to_scale(self, value) -> float:
        return math.log10(1 - value)

    def with_bounds(self, a: float, b: float):
        return OneMinusLogUniform(1 - 10 ** b, 1 - 10 ** a)


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float
    log = False

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def suggest(self, trial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high)

    def to_scale(self, value) -> float:
        return float(value)

    def with_bounds(self, a: float, b: float):
        return Uniform(a, b)


@dataclass(frozen=True)
class IntRange:
    """An integer in [low, high] (layer and unit counts), uniform or on a log scale."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self):
        if not (1 if self.log else 0) <= self.low <= self.high:
            raise ConfigError(f"IntRange needs {'1' if self.log else '0'} <= low <= high, got "
                              f"{self.low}, {self.high}")

    def sample(self, rng: random.Random) -> int:
        if self.log:
            return int(round(LogUniform(self.low - 0.5, self.high + 0.5).sample(rng)))
        return rng.randint(self.low, self.high)

    def suggest(self, trial, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high, log=self.log)

    def to_scale(self, value) -> float:
        return math.log10(value) if self.log else float(value)

    def with_bounds(self, a: float, b: float):
        low, high = (10 ** a, 10 ** b) if self.log else (a, b)
        return IntRange(max(int(math.floor(low)), self.low),
                        min(int(math.ceil(high)), self.high), self.log)


@dataclass(frozen=True)
class Choice:
    options: tuple
    log = False

    def sample(self, rng: random.Random):
        return rng.choice(self.options)

    def suggest(self, trial, name: str):
        return trial.suggest_categorical(name, list(self.options))


KINDS = {"log": LogUniform, "uniform": Uniform, "beta": OneMinusLogUniform,
         "int": IntRange, "intlog": lambda a, b: IntRange(a, b, log=True)}


def parse_distribution(text: str):
    """``log:1e-4:1e-1``, ``uniform:0:1``, ``beta:0.9:0.999`` (beta = 1 - 10^r),
    ``int:1:4``, ``intlog:16:512``, ``choice:adam,momentum``."""
    kind, _, rest = str(text).partition(":")
    if kind == "choice":
        options = tuple(_number_or_text(v) for v in rest.split(",") if v)
        if not options:
            raise ConfigError(f"search space {text!r}: choice needs options a,b,...")
        return Choice(options)
    if kind not in KINDS:
        raise ConfigError(f"search space {text!r}: kind must be one of "
                          f"{', '.join([*KINDS, 'choice'])}")
    cast = int if kind.startswith("int") else float
    try:
        low, high = (cast(v) for v in rest.split(":"))
    except ValueError:
        raise ConfigError(f"search space {text!r}: expected {kind}:LOW:HIGH") from None
    return KINDS[kind](low, high)


def to_text(dist) -> str:
    """The ``parse_distribution`` text of a distribution (the inverse of parsing)."""
    if isinstance(dist, Choice):
        return "choice:" + ",".join(str(v) for v in dist.options)
    kind = {LogUniform: "log", Uniform: "uniform", OneMinusLogUniform: "beta"}.get(type(dist))
    if kind is None:
        kind = "intlog" if dist.log else "int"
    return f"{kind}:{dist.low!r}:{dist.high!r}"


def _number_or_text(value: str):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def parse_space(items) -> dict:
    """``{"lr": "log:1e-4:1e-1", ...}`` or ``["lr=log:1e-4:1e-1", ...]`` -> distributions."""
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items:
            name, sep, text = str(item).partition("=")
            if not sep or not name:
                raise ConfigError(f"search space entry {item!r}: expected NAME=KIND:ARGS")
            pairs.append((name.strip(), text.strip()))
    return {name: parse_distribution(text) for name, text in pairs}


def zoom(space: dict, best: list[dict], margin: float = 0.25) -> dict:
    """Coarse to fine: a space narrowed to the region the ``best`` parameter sets span.

    Each numeric range becomes [min, max] of the best values on its sampling scale (log10
    for log scales), widened on each side by ``margin`` of that span but at least
    ``margin / 2.5`` of the old range, and kept inside the old range; a choice keeps the
    options the best sets used.
    """
    if not best:
        raise ConfigError("zoom: needs at least one good parameter set")
    fine = {}
    for name, dist in space.items():
        values = [params[name] for params in best if name in params]
        if not values or not hasattr(dist, "to_scale"):
            fine[name] = Choice(tuple(dict.fromkeys(values))) if values else dist
            continue
        old = sorted(dist.to_scale(v) for v in (dist.low, dist.high))
        scaled = [dist.to_scale(v) for v in values]
        lo, hi = min(scaled), max(scaled)
        pad = max(margin * (hi - lo), margin / 2.5 * (old[1] - old[0]))
        fine[name] = dist.with_bounds(max(lo - pad, old[0]), min(hi + pad, old[1]))
    return fine


def random_search(objective: Callable[..., float], space: dict, trials: int = 20,
                  seed: int = 0, minimize: bool = True) -> list[tuple[dict, float]]:
    """Evaluate ``objective(**params)`` on ``trials`` random draws from ``space``.

    Returns (params, score) pairs sorted best first.
    """
    if trials < 1:
        raise ConfigError(f"random_search: trials must be >= 1, got {trials}")
    rng = random.Random(seed)
    results = []
    for _ in range(trials):
        params = {name: dist.sample(rng) if hasattr(dist, "sample") else dist
                  for name, dist in space.items()}
        results.append((params, float(objective(**params))))
    return sorted(results, key=lambda r: r[1], reverse=not minimize)
