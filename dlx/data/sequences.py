"""Synthetic sequence tasks generated in code with a seed (host NumPy, before any device).

``first_token_task``: the first step is one of ``n_classes`` signal symbols, every later step
one of ``n_noise`` distractor symbols (one-hot, K = n_classes + n_noise features); the label
is the signal symbol. A model must carry one token across T - 1 steps of noise: the
long-time-lag test of Hochreiter & Schmidhuber (1997, experiment 2a).
"""

from __future__ import annotations

import numpy as np

from dlx.errors import ConfigError


def first_token_task(m: int, T: int, n_classes: int = 2, n_noise: int = 4, seed: int = 0,
                     dtype=np.float32):
    """(X (m, T, n_classes + n_noise) one-hot, y (m,) int64 = the first symbol's class)."""
    if m < 1 or T < 1 or n_classes < 2 or n_noise < 1:
        raise ConfigError(f"first_token_task: need m >= 1, T >= 1, n_classes >= 2 and "
                          f"n_noise >= 1, got m={m}, T={T}, n_classes={n_classes}, "
                          f"n_noise={n_noise}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, m)
    tokens = n_classes + rng.integers(0, n_noise, (m, T))
    tokens[:, 0] = labels
    X = np.zeros((m, T, n_classes + n_noise), dtype=dtype)
    np.put_along_axis(X, tokens[:, :, None], 1, axis=2)
    return X, labels.astype(np.int64)
