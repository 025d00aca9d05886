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
def schedules():
    """Other thread orders; a correct kernel gives the same bits in all."""
    return {"reverse": EmulatedBackend(schedule="reverse"),
            "random": EmulatedBackend(schedule="random", seed=7)}


@pytest.fixture(scope="module")
def launch_shapes():
    """Other launch shapes: the same bits, except the softmax loss, whose stage-1 partial
    sums follow the grid (the grid is chosen from the device: same device, same bits)."""
    return {"tiny-grid (32 threads x 3 blocks)": EmulatedBackend(block_size=32, max_blocks=3),
            "one thread": EmulatedBackend(block_size=1, max_blocks=1)}


def _window_and_softmax(be):
    x = distinct_values(np.random.default_rng(2), (2, 3, 11, 9), np.float32)
    geometry = GEOMETRIES["overlapping-pool"]
    z, t, weight, ignore_index = softmax_inputs(SOFTMAX_CASES["ignored-rows"], np.float32)
    return (window_outputs(be, x, (x.shape, *geometry[1:])),
            softmax_outputs(be, z, t, weight, ignore_index))


def test_thread_order_does_not_change_a_bit(emulated, schedules):
    expected_w, expected_s = _window_and_softmax(emulated)
    for name, be in schedules.items():
        got_w, got_s = _window_and_softmax(be)
        for key, ref in expected_w.items():
            np.testing.assert_array_equal(got_w[key], ref, err_msg=f"{name} {key}")
        for key, ref in expected_s.items():
            np.testing.assert_array_equal(got_s[key], ref, err_msg=f"{name} {key}")


def test_grid_stride_gives_the_same_results(emulated, launch_shapes):
    expected_w, expected_s = _window_and_softmax(emulated)
    for name, be in launch_shapes.items():
        got_w, got_s = _window_and_softmax(be)
        for key, ref in expected_w.items():
            np.testing.assert_array_equal(got_w[key], ref, err_msg=f"{name} {key}")
        for key, ref in expected_s.items():
            if key == "loss":
                np.testing.assert_allclose(got_s[key], ref, rtol=1e-6, err_msg=name)
            else:
                np.testing.assert_array_equal(got_s[key], ref, err_msg=f"{name} {key}")


@pytest.mark.parametrize("schedule", ["forward", "reverse", "random"])
def test_block_per_row_matches_numpy_in_every_thread_order(reference, schedule):
    """Rows forced onto the block-per-row kernels (shuffles + shared memory + barriers)."""
    be = EmulatedBackend(schedule=schedule, seed=3)
    be.warp_max_classes = 0
    for name in ("plain", "weights", "ignored-rows"):
        args = softmax_inputs(SOFTMAX_CASES[name], np.float64)
        assert_outputs_match(softmax_outputs(be, *args), softmax_outputs(reference, *args), name)


def test_softmax_float32_k5000_is_within_1e6_of_float64():
    """Tree sums and compensated exp differences: float32 probabilities for K = 5000 (a block
    per row) agree with a float64 reference to 1e-6 relative."""
    m, k = 32, 5000
    rng = np.random.default_rng(5)
    z = (3 * rng.standard_normal((m, k))).astype(np.float32)
    t = rng.integers(0, k, m)
    be = EmulatedBackend()
    loss, lse, scale = be.softmax_ce_fwd(z, t)
    dz = be.softmax_ce_bwd(z, lse, t, scale, np.ones((), np.float32))
    z64 = z.astype(np.float64)
    lse64 = np.log(np.exp(z64 - z64.max(1, keepdims=True)).sum(1)) + z64.max(1)
    p64 = np.exp(z64 - lse64[:, None])
    p = dz.astype(np.float64) * m  # scale = 1/32 exactly, gloss = 1
    p[np.arange(m), t] += 1.0
    off_label = np.ones((m, k), bool)
    off_label[np.arange(m), t] = False
    rel = np.abs(p - p64)[off_label] / p64[off_label]
    assert rel.max() <= 1e-6, rel.max()
    np.testing.assert_allclose(lse, lse64, rtol=1e-7)
    np.testing.assert_allclose(loss, np.mean(lse64 - z64[np.arange(m), t]), rtol=1e-6)


class _Recorder:
    """Stands in for a compiled kernel: records the name and the scalar argument types."""

    def __init__(self, calls, name):
        self.calls, self.name = calls, name

    def __call__(self, grid, block, args):
        self.calls.append((self.name, {type(a) for a in args if isinstance(a, np.generic)}))


class _Extent:
    def __init__(self, size):
        self.size = size


def test_launcher_picks_32_bit_indices_only_when_every_extent_fits(monkeypatch):
    from dlx.backends.kernel_backend import Geometry

    be = EmulatedBackend()
    calls = []
    monkeypatch.setattr(be, "_function", lambda module, name: _Recorder(calls, name))
    g = Geometry.of("im2col", (2, 3, 8, 8), 3, 1, 1)
    for extent in (2 ** 31 - 1, 2 ** 31, 3 * 2 ** 31):
        be._launch_window("im2col", "im2col", np.float32, 1000,
                          (_Extent(10), _Extent(extent)), g)
    assert calls == [("im2col_i32_f32", {np.int32}), ("im2col_f32", {np.int64}),
                     ("im2col_f32", {np.int64})]


@pytest.mark.parametrize("name", ["5x5-not-block-multiple", "stride>kernel", "overlapping-pool"])
def test_32_and_64_bit_window_kernels_agree_bit_for_bit(emulated, monkeypatch, name):
    from dlx.backends import launch_config

    geometry = GEOMETRIES[name]
    x = distinct_values(np.random.default_rng(4), geometry[0], np.float64)
    launched = []
    real = emulated._function
    monkeypatch.setattr(emulated, "_function",
                        lambda module, kernel: launched.append(kernel) or real(module, kernel))
    narrow = window_outputs(emulated, x, geometry)
    monkeypatch.setattr(launch_config, "INT32_MAX", 0)  # nothing fits: the 64-bit kernels
    wide = window_outputs(emulated, x, geometry)
    assert {k for k in launched if "_i32" in k} == {"im2col_i32_f64", "col2im_i32_f64",
                                                   "maxpool_fwd_i32_f64", "maxpool_bwd_i32_f64"}
    assert {"im2col_f64", "col2im_f64", "maxpool_fwd_f64", "maxpool_bwd_f64"} <= set(launched)
    for key in narrow:
        np.testing.assert_array_equal(narrow[key], wide[key], err_msg=key)
