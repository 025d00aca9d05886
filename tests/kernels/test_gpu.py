"""CupyBackend against the NumPy backend (needs CuPy and a GPU; skipped with the reason)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from kernel_cases import (DTYPES, GEOMETRIES, SOFTMAX_CASES, assert_outputs_match,
                          distinct_values, softmax_inputs, softmax_outputs, window_outputs)


pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", GEOMETRIES)
def test_window_primitives_on_gpu(gpu, reference, name, dtype):
    x = distinct_values(np.random.default_rng(0), GEOMETRIES[name][0], dtype)
    assert_outputs_match(window_outputs(gpu, x, GEOMETRIES[name]),
                         window_outputs(reference, x, GEOMETRIES[name]), name)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", SOFTMAX_CASES)
def test_softmax_ce_on_gpu(gpu, reference, name, dtype):
    args = softmax_inputs(SOFTMAX_CASES[name], dtype)
    assert_outputs_match(softmax_outputs(gpu, *args), softmax_outputs(reference, *args), name)


def test_rng_state_round_trip(gpu):
    gpu.seed(3)
    state = json.loads(json.dumps(gpu.get_rng_state()))
    first = gpu.to_host(gpu.rng.random(5))
    gpu.set_rng_state(state)
    np.testing.assert_array_equal(gpu.to_host(gpu.rng.random(5)), first)
