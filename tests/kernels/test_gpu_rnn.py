"""The recurrent-cell kernels on a real GPU against the NumPy twin, and an LSTM layer's
forward and backward on the GPU against the NumPy backend (needs CuPy and a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_cases import DTYPES
from rnn_cases import RNN_CASES, assert_rnn_outputs_match, rnn_inputs, rnn_outputs

import dlx
import dlx.backends as B
from dlx import nn

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", RNN_CASES)
def test_rnn_cells_on_gpu(gpu, reference, name, dtype):
    inp = rnn_inputs(RNN_CASES[name], dtype)
    assert_rnn_outputs_match(rnn_outputs(gpu, inp), rnn_outputs(reference, inp), name)


@pytest.mark.parametrize("cls, kw", [(nn.LSTM, {}), (nn.GRU, {}), (nn.GRU, {"variant": "pytorch"}),
                                     (nn.RNN, {})])
def test_layer_on_gpu_matches_numpy(gpu, cls, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7, 3))
    lengths = np.array([7, 0, 3, 5, 1])
    results, state = [], None
    for name in ("numpy", "cupy"):
        with B.use(name) as be:
            layer = nn.Bidirectional(cls(3, 4, num_layers=2, dtype=np.float64, **kw))
            if state is None:
                state = layer.state_dict()
            layer.load_state_dict(state)  # the same weights on both backends
            X = dlx.Tensor(be.asarray(x), requires_grad=True)
            out = layer(X, lengths=be.asarray(lengths))
            out.outputs.sum().backward()
            results.append([be.to_host(out.outputs.data), be.to_host(X.grad)]
                           + [be.to_host(p.grad) for p in layer.parameters()])
    for ours, ref in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)
