"""The emulated CUDA kernels against the NumPy backend.

Tolerance: 1e-6 relative for float32, 1e-12 for float64 (see kernel_cases.RTOL).
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_cases import (DTYPES, GEOMETRIES, SOFTMAX_CASES, assert_outputs_match,
                          distinct_values, softmax_inputs, softmax_outputs, window_outputs)

from dlx.backends.emulated_backend import EmulatedBackend


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", GEOMETRIES)
def test_window_primitives_match_numpy(emulated, reference, name, dtype):
    geometry = GEOMETRIES[name]
    x = distinct_values(np.random.default_rng(0), geometry[0], dtype)
    x_before = x.copy()
    assert_outputs_match(window_outputs(emulated, x, geometry),
                         window_outputs(reference, x, geometry), name)
    np.testing.assert_array_equal(x, x_before)  # inputs are not modified


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", SOFTMAX_CASES)
def test_softmax_ce_matches_numpy(emulated, reference, name, dtype):
    z, t, weight, ignore_index = softmax_inputs(SOFTMAX_CASES[name], dtype)
    z_before = z.copy()
    got = softmax_outputs(emulated, z, t, weight, ignore_index)
    assert_outputs_match(got, softmax_outputs(reference, z, t, weight, ignore_index), name)
    np.testing.assert_array_equal(z, z_before)
    assert got["loss"].shape == ()


def test_out_of_range_labels_give_nan_rows_not_reads(emulated):
    z, t, weight, ignore_index = softmax_inputs(SOFTMAX_CASES["out-of-range-labels"], np.float64)
    out = softmax_outputs(emulated, z, t, weight, ignore_index)
    bad = (t != ignore_index) & ((t < 0) | (t >= z.shape[1]))
    assert np.isnan(out["loss"])
    assert np.isnan(out["dz"][bad]).all() and not np.isnan(out["dz"][~bad]).any()
    assert (out["dz"][t == ignore_index] == 0).all()


def test_non_contiguous_inputs(emulated, reference):
    x = distinct_values(np.random.default_rng(1), (2, 3, 9, 8), np.float32)[:, ::-1, :, ::2]
    geometry = (x.shape, (3, 2), (2, 1), (1, 0))
    assert not x.flags.c_contiguous
    assert_outputs_match(window_outputs(emulated, x, geometry),
                         window_outputs(reference, np.ascontiguousarray(x), geometry))
    z, t, _, _ = softmax_inputs(SOFTMAX_CASES["plain"], np.float64)
    assert_outputs_match(softmax_outputs(emulated, z.T.copy().T[:, ::-1], t[::-1], None, -100),
                         softmax_outputs(reference, z[:, ::-1].copy(), t[::-1].copy(), None, -100))


@pytest.fixture(scope="module")
def variants(emulated):
    """Other launch shapes and thread orders; a correct kernel gives the same bits in all."""
    return {"tiny-grid (32 threads x 3 blocks)": EmulatedBackend(block_size=32, max_blocks=3),
            "one thread": EmulatedBackend(block_size=1, max_blocks=1),
            "reverse": EmulatedBackend(schedule="reverse"),
            "random": EmulatedBackend(schedule="random", seed=7)}


def test_grid_stride_and_thread_order_do_not_change_results(emulated, variants):
    x = distinct_values(np.random.default_rng(2), (2, 3, 11, 9), np.float32)
    geometry = GEOMETRIES["overlapping-pool"]
    z, t, weight, ignore_index = softmax_inputs(SOFTMAX_CASES["ignored-rows"], np.float32)
    expected_w = window_outputs(emulated, x, (x.shape, *geometry[1:]))
    expected_s = softmax_outputs(emulated, z, t, weight, ignore_index)
    for name, be in variants.items():
        for key, ref in window_outputs(be, x, (x.shape, *geometry[1:])).items():
            np.testing.assert_array_equal(ref, expected_w[key], err_msg=f"{name} {key}")
        for key, ref in softmax_outputs(be, z, t, weight, ignore_index).items():
            np.testing.assert_array_equal(ref, expected_s[key], err_msg=f"{name} {key}")
