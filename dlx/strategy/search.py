"""Random hyperparameter search on the right scale (course 2, week 3).

Sample at random rather than on a grid, and sample learning rates and 1 - beta on a log
scale: ``alpha = 10 ** uniform(log10(lo), log10(hi))``.
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

    def sample(self, rng: random.Random) -> float:
        if not 0 < self.low < self.high:
            raise ConfigError(f"LogUniform needs 0 < low < high, got {self.low}, {self.high}")
        return 10 ** rng.uniform(math.log10(self.low), math.log10(self.high))


@dataclass(frozen=True)
class OneMinusLogUniform:
    """1 - 10 ** U(log10(1 - high), log10(1 - low)) — for momentum betas in [0.9, 0.999]."""

    low: float
    high: float

    def sample(self, rng: random.Random) -> float:
        return 1 - LogUniform(1 - self.high, 1 - self.low).sample(rng)


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


@dataclass(frozen=True)
class Choice:
    options: tuple

    def sample(self, rng: random.Random):
        return rng.choice(self.options)


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
