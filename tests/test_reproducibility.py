"""The reproducibility contract: the same seed, backend, dtype and thread count give the same
bits (initialisation, shuffling, dropout masks and every update); another seed does not."""

import numpy as np
import pytest

import dlx.nn as nn
from dlx.data import load_digits


def _train(backend, seed):
    """Two epochs of a small CNN with dropout on 200 digits; the final parameters (host)."""
    pytest.importorskip("sklearn")
    X, y = load_digits(images=True)
    backend.seed(seed)
    model = nn.Sequential(nn.Conv2D(1, 4, 3, padding="same", activation="relu"),
                          nn.MaxPool2D(2), nn.Flatten(), nn.Dropout(0.8),
                          nn.Dense(64, 10))
    model.fit((X[:200], y[:200]), epochs=2, batch_size=32, optimizer="adam", lr=0.01,
              verbose=False)
    return [p.to_numpy() for p in model.parameters()]


def test_same_seed_gives_identical_bits_twice(backend):
    first, second = _train(backend, 3), _train(backend, 3)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_other_numbers(backend):
    first, other = _train(backend, 3), _train(backend, 4)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
