"""LSTM and GRU carry a token across a long gap (a shorter version of
examples/long_range.py, which uses T = 50 and also shows the plain RNN at chance)."""

from __future__ import annotations

import numpy as np
import pytest

import dlx.backends as B
from dlx.data.sequences import first_token_task
from dlx.models.long_range import run_first_token


def test_first_token_task_labels_are_the_first_symbol():
    X, y = first_token_task(50, 7, n_classes=3, n_noise=2, seed=0)
    assert X.shape == (50, 7, 5) and (X.sum(axis=2) == 1).all()
    np.testing.assert_array_equal(X[:, 0].argmax(axis=1), y)
    assert (X[:, 1:, :3] == 0).all()  # the rest is distractors only


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_learn_a_20_step_dependency(cell):
    with B.use("numpy"):
        result = run_first_token(cell, T=20, n_train=384, n_test=300, epochs=5)
    assert max(result["accuracy"]) >= 0.95, result["accuracy"]
