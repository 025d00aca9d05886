"""The emulated recurrent-cell kernels (kernels/rnn_cells.cu) against their NumPy twin."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_cases import DTYPES
from rnn_cases import RNN_CASES, assert_rnn_outputs_match, rnn_inputs, rnn_outputs

from dlx.backends.emulated_backend import EmulatedBackend
from dlx.errors import ShapeError


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", RNN_CASES)
def test_rnn_cells_match_numpy(emulated, reference, name, dtype):
    inp = rnn_inputs(RNN_CASES[name], dtype)
    before = {k: v.copy() for k, v in inp.items() if isinstance(v, np.ndarray)}
    got = rnn_outputs(emulated, inp)
    assert_rnn_outputs_match(got, rnn_outputs(reference, inp), name)
    for k, v in before.items():
        np.testing.assert_array_equal(inp[k], v)  # inputs are not modified


def test_masking_keeps_finished_rows(emulated):
    inp = rnn_inputs(RNN_CASES["mixed-lengths"], np.float64)
    out = rnn_outputs(emulated, inp)
    done = inp["lengths"] <= inp["t"]
    np.testing.assert_array_equal(out["lstm_c"][done], inp["c"][done])
    np.testing.assert_array_equal(out["lstm_a"][done], inp["a"][done])
    np.testing.assert_array_equal(out["lstm_dz"][done], 0)
    np.testing.assert_array_equal(out["lstm_dc_prev"][done], inp["g2"][done])
    np.testing.assert_array_equal(out["lstm_da_pass"][~done], 0)
    np.testing.assert_array_equal(out["torch_dzh"][done], 0)


@pytest.fixture(scope="module")
def variants():
    return {"tiny-grid": EmulatedBackend(block_size=32, max_blocks=3),
            "one thread": EmulatedBackend(block_size=1, max_blocks=1),
            "random order": EmulatedBackend(schedule="random", seed=3)}


def test_grid_stride_and_thread_order_do_not_change_results(emulated, variants):
    inp = rnn_inputs(RNN_CASES["not-block-multiple"], np.float32)
    expected = rnn_outputs(emulated, inp)
    for name, be in variants.items():
        for key, value in rnn_outputs(be, inp).items():
            np.testing.assert_array_equal(value, expected[key], err_msg=f"{name} {key}")


def test_launcher_refuses_bad_outputs(emulated):
    z = np.zeros((2, 8))
    c = np.zeros((2, 2))
    lengths = np.array([1, 1])
    with pytest.raises(ShapeError, match=r"lstm_fwd: output a must be float64 of shape \(2, 2\)"):
        emulated.lstm_fwd(z, c, c, lengths, 0, np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="lstm_fwd: output c must be C-contiguous"):
        emulated.lstm_fwd(z, c, c, lengths, 0, np.zeros((2, 2)), np.zeros((2, 4))[:, ::2])
    with pytest.raises(ShapeError, match=r"z must be \(m, 4\*n\)"):
        emulated.lstm_fwd(np.zeros((2, 6)), c, c, lengths, 0, c.copy(), c.copy())
