"""RNN, GRU (PyTorch variant) and LSTM against PyTorch in float64: outputs, final states and
every gradient (inputs, initial states, all weights), 1 and 2 layers, one and two directions,
with and without lengths in random order. Weights go through dlx's converters."""

from __future__ import annotations

import numpy as np
import pytest

import dlx
from dlx import nn
from dlx.nn.recurrent_torch import from_torch_state_dict, to_torch_state_dict

torch = pytest.importorskip("torch", reason="PyTorch parity tests need torch")
pytestmark = pytest.mark.torch

M, T, N_X, N_A = 4, 6, 3, 5
LENGTHS = np.array([3, 6, 1, 4])  # random order; torch packing needs lengths >= 1
CELLS = {"rnn-tanh": (nn.RNN, torch.nn.RNN, {"activation": "tanh"}, {"nonlinearity": "tanh"}),
         "rnn-relu": (nn.RNN, torch.nn.RNN, {"activation": "relu"}, {"nonlinearity": "relu"}),
         "gru-pytorch": (nn.GRU, torch.nn.GRU, {"variant": "pytorch"}, {}),
         "lstm": (nn.LSTM, torch.nn.LSTM, {}, {})}


def _torch_run(layer, x, h0, c0, lengths):
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    c0t = None if c0 is None else torch.tensor(c0, requires_grad=True)
    state = h0t if c0t is None else (h0t, c0t)
    if lengths is None:
        y, last = layer(xt, state)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                         batch_first=True, enforce_sorted=False)
        y, last = layer(packed, state)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=T)
    return xt, h0t, c0t, y, last


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", CELLS)
def test_matches_pytorch(backend, kind, num_layers, bidirectional, lengths):
    ours_cls, torch_cls, ours_kw, torch_kw = CELLS[kind]
    rng = np.random.default_rng(0)
    dirs = 2 if bidirectional else 1
    lstm = kind == "lstm"
    torch.manual_seed(0)
    ref = torch_cls(N_X, N_A, num_layers=num_layers, batch_first=True,
                    bidirectional=bidirectional, dtype=torch.float64, **torch_kw)
    with torch.no_grad():
        for p in ref.parameters():  # PyTorch starts biases at random too; make them matter
            p.uniform_(-0.6, 0.6)
    layer = ours_cls(N_X, N_A, num_layers=num_layers, dtype=np.float64, **ours_kw)
    if bidirectional:
        layer = nn.Bidirectional(layer)
    from_torch_state_dict(layer, {k: v.numpy() for k, v in ref.state_dict().items()})

    x = rng.standard_normal((M, T, N_X))
    h0 = 0.5 * rng.standard_normal((num_layers * dirs, M, N_A))
    c0 = 0.5 * rng.standard_normal((num_layers * dirs, M, N_A)) if lstm else None
    xt, h0t, c0t, y_ref, last_ref = _torch_run(ref, x, h0, c0, lengths)
    h_ref = last_ref[0] if lstm else last_ref
    proj_y = rng.standard_normal(y_ref.shape)
    proj_h = rng.standard_normal(h_ref.shape)
    loss = (y_ref * torch.tensor(proj_y)).sum() + (h_ref * torch.tensor(proj_h)).sum()
    if lstm:
        proj_c = rng.standard_normal(h_ref.shape)
        loss = loss + (last_ref[1] * torch.tensor(proj_c)).sum()
    loss.backward()

    X = dlx.Tensor(backend.asarray(x), requires_grad=True)
    h0s = [dlx.Tensor(backend.asarray(h), requires_grad=True) for h in h0]
    c0s = [dlx.Tensor(backend.asarray(c), requires_grad=True) for c in c0] if lstm else None
    states = [nn.LSTMState(h, c) for h, c in zip(h0s, c0s)] if lstm else h0s
    if bidirectional:
        states = [(states[2 * i], states[2 * i + 1]) for i in range(num_layers)]
    out = layer(X, lengths=None if lengths is None else backend.asarray(lengths),
                initial_state=tuple(states))
    finals = [s for pair in out.last_state for s in (pair if bidirectional else (pair,))]
    h_ours = [s.a if lstm else s for s in finals]
    total = (out.outputs * dlx.Tensor(backend.asarray(proj_y))).sum()
    for i, h in enumerate(h_ours):
        total = total + (h * dlx.Tensor(backend.asarray(proj_h[i]))).sum()
    if lstm:
        for i, s in enumerate(finals):
            total = total + (s.c * dlx.Tensor(backend.asarray(proj_c[i]))).sum()
    total.backward()

    def close(ours, theirs, what):
        np.testing.assert_allclose(backend.to_host(ours), theirs.detach().numpy(), rtol=1e-10,
                                   atol=1e-10, err_msg=what)

    close(out.outputs.data, y_ref, "outputs")
    for i, h in enumerate(h_ours):
        close(h.data, h_ref[i], f"final a of direction-layer {i}")
    close(X.grad, xt.grad, "dx")
    for i, h in enumerate(h0s):
        close(h.grad, h0t.grad[i], f"da0[{i}]")
    if lstm:
        for i, c in enumerate(c0s):
            close(c.grad, c0t.grad[i], f"dc0[{i}]")
    for cell in (c for _, cells in _cells(layer) for c in cells):
        for p in cell.parameters():
            p.data = p.grad  # export the gradients through the same converter
    grads = to_torch_state_dict(layer)
    for name, p in ref.named_parameters():
        if name.startswith("bias_hh") and kind != "gru-pytorch":
            continue  # one bias per gate: its gradient is bias_ih's
        ours = grads[name]
        theirs = p.grad.numpy()
        if name.startswith("bias_hh"):
            ours, theirs = ours[2 * N_A:], theirs[2 * N_A:]
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10, err_msg=name)


def _cells(layer):
    if isinstance(layer, nn.Bidirectional):
        return [("f", layer.forward_cells), ("b", layer.backward_cells)]
    return [("", layer.cells)]


def test_converters_round_trip(backend):
    ref = torch.nn.LSTM(N_X, N_A, num_layers=2, bidirectional=True, dtype=torch.float64)
    state = {k: v.numpy() for k, v in ref.state_dict().items()}
    layer = nn.Bidirectional(nn.LSTM(N_X, N_A, num_layers=2, dtype=np.float64))
    from_torch_state_dict(layer, state)
    back = to_torch_state_dict(layer)
    for k in state:
        if k.startswith("weight"):
            np.testing.assert_array_equal(back[k], state[k])
    b = [k for k in state if k.startswith("bias_ih")]
    for k in b:
        np.testing.assert_allclose(back[k], state[k] + state[k.replace("_ih", "_hh")], rtol=1e-15)


def test_course_gru_refuses_torch_conversion():
    with pytest.raises(dlx.ConfigError, match="variant='pytorch'"):
        to_torch_state_dict(nn.GRU(2, 3))
