"""Weight initialisers (the course's): W has shape (n[l], n[l-1], ...), fan_in = n[l-1]*f*f.

zeros; random_small: N(0,1) * 0.01; xavier: N(0,1) * sqrt(1/fan_in); glorot:
N(0,1) * sqrt(2/(fan_in + fan_out)); he: N(0,1) * sqrt(2/fan_in). Draws come from the
active backend's seeded generator.
"""

from __future__ import annotations

import math

from dlx import backends
from dlx.errors import ConfigError


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (n_out, n_in, *kernel)."""
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _normal(shape, std, dtype):
    backend = backends.current()
    dtype = dtype or backend.default_dtype
    return (backend.rng.standard_normal(shape, dtype=backend.xp.float64) * std).astype(dtype)


def zeros(shape, dtype=None):
    backend = backends.current()
    return backend.xp.zeros(shape, dtype=dtype or backend.default_dtype)


def random_small(shape, dtype=None):
    return _normal(shape, 0.01, dtype)


def xavier(shape, dtype=None):
    return _normal(shape, math.sqrt(1.0 / fans(shape)[0]), dtype)


def glorot(shape, dtype=None):
    fan_in, fan_out = fans(shape)
    return _normal(shape, math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def he(shape, dtype=None):
    return _normal(shape, math.sqrt(2.0 / fans(shape)[0]), dtype)


INITIALISERS = {"zeros": zeros, "random_small": random_small, "xavier": xavier,
                "glorot": glorot, "he": he}

#: default initialiser by activation: He for the ReLU family, Xavier otherwise
DEFAULT_FOR_ACTIVATION = {"relu": "he", "leaky_relu": "he", "tanh": "xavier",
                          "sigmoid": "xavier", "linear": "xavier", "softmax": "xavier",
                          None: "xavier"}


def get(name_or_fn, activation=None):
    """Resolve an initialiser name ("auto" picks by activation) or pass a callable through."""
    if callable(name_or_fn):
        return name_or_fn
    if name_or_fn in (None, "auto"):
        name_or_fn = DEFAULT_FOR_ACTIVATION.get(activation, "xavier")
    if name_or_fn not in INITIALISERS:
        raise ConfigError(f"unknown initialiser {name_or_fn!r}; expected one of "
                          f"{', '.join(INITIALISERS)} or 'auto'")
    return INITIALISERS[name_or_fn]
