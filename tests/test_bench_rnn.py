"""The recurrent benchmark rows run on the emulated backend (the CUDA cell kernels on the CPU)
and agree with the NumPy backend; their PyTorch twins compute the same thing."""

from __future__ import annotations

import numpy as np
import pytest

import dlx.backends as B
from dlx.bench import cases as C
from dlx.bench import rnn_cases as R


def _run(backend_name, builder):
    with B.use(backend_name) as be:
        return [be.to_host(a).copy() for a in builder()()]


@pytest.mark.parametrize("row", [R.LSTM_ROW, R.CHARLM_ROW])
def test_rows_agree_on_emulated_and_numpy(emulated, row):
    case = C.find(row)
    ref = _run("numpy", case.dlx)
    got = _run("emulated", case.dlx)
    assert len(got) == len(ref)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(b).max()))


@pytest.mark.torch
def test_lstm_row_matches_its_pytorch_twin():
    torch = pytest.importorskip("torch")
    out = _run("numpy", R.lstm_layer_fwd_bwd)
    layer = torch.nn.LSTM(R.LSTM_NX, R.LSTM_NA, batch_first=True)
    layer.load_state_dict({k: torch.from_numpy(v) for k, v in
                           R.torch_lstm_state(R.LSTM_NX, R.LSTM_NA, 40).items()})
    x = torch.from_numpy(C.host_normal((R.LSTM_M, R.LSTM_T, R.LSTM_NX), 41)).requires_grad_(True)
    y, _ = layer(x)
    y.backward(torch.from_numpy(C.host_normal((R.LSTM_M, R.LSTM_T, R.LSTM_NA), 42)))
    np.testing.assert_allclose(out[0], y.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out[1], x.grad.numpy(), rtol=1e-3, atol=1e-5)
