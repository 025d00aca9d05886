"""Recurrent cells and layers: the course's formulas, gradient checks (masked and unmasked) on
every backend, variable-length rules, stateful mode, one Function per layer call, errors."""

from __future__ import annotations

import numpy as np
import pytest

import dlx
from dlx import nn
from dlx.gradcheck import directional_check, gradient_check
from dlx.functional.recurrent import RecurrentSequence

F64 = np.float64


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def course_gru_reference(x, c0, W_x, W_a, b, lengths):
    """The course's GRU written out per step in NumPy (float64), masked by lengths."""
    m, T, _ = x.shape
    n = c0.shape[1]
    c, ys = c0.copy(), []
    Wu, Wr, Wc = (np.concatenate([W_a[k * n:(k + 1) * n], W_x[k * n:(k + 1) * n]], axis=1)
                  for k in range(3))
    bu, br, bc = b[:n], b[n:2 * n], b[2 * n:]
    for t in range(T):
        xt = x[:, t]
        gu = sigmoid(np.concatenate([c, xt], 1) @ Wu.T + bu)
        gr = sigmoid(np.concatenate([c, xt], 1) @ Wr.T + br)
        cc = np.tanh(np.concatenate([gr * c, xt], 1) @ Wc.T + bc)
        new = gu * cc + (1 - gu) * c
        active = (t < lengths)[:, None]
        c = np.where(active, new, c)
        ys.append(np.where(active, c, 0))
    return np.stack(ys, 1), c


def lstm_reference(x, a0, c0, W_x, W_a, b):
    """The course's LSTM step by step (float64)."""
    n = a0.shape[1]
    a, c, ys = a0, c0, []
    for t in range(x.shape[1]):
        z = x[:, t] @ W_x.T + a @ W_a.T + b
        gf, gu, cc, go = (sigmoid(z[:, :n]), sigmoid(z[:, n:2 * n]), np.tanh(z[:, 2 * n:3 * n]),
                          sigmoid(z[:, 3 * n:]))
        c = gf * c + gu * cc
        a = go * np.tanh(c)
        ys.append(a)
    return np.stack(ys, 1), a, c


def test_course_gru_equals_handwritten_reference(backend, rng):
    layer = nn.GRU(3, 4, dtype=F64)
    for p in layer.parameters():
        p.data = backend.asarray(rng.uniform(-0.8, 0.8, p.shape))
    x = rng.standard_normal((5, 7, 3))
    c0 = rng.standard_normal((5, 4))
    lengths = np.array([7, 0, 3, 5, 1])
    out = layer(dlx.Tensor(backend.asarray(x)), lengths=lengths,
                initial_state=dlx.Tensor(backend.asarray(c0)))
    cell = layer.cells[0]
    y_ref, c_ref = course_gru_reference(x, c0, *(p.to_numpy() for p in cell.weights()), lengths)
    np.testing.assert_allclose(backend.to_host(out.outputs.data), y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(backend.to_host(out.last_state[0].data), c_ref, rtol=1e-12,
                               atol=1e-12)


def test_lstm_equals_course_formulas_and_forget_bias_is_one(backend, rng):
    cell = nn.LSTMCell(3, 4, dtype=F64)
    np.testing.assert_array_equal(cell.b.to_numpy()[:4], 1.0)
    np.testing.assert_array_equal(cell.b.to_numpy()[4:], 0.0)
    x = rng.standard_normal((2, 5, 3))
    a0, c0 = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    layer = nn.LSTM(3, 4, dtype=F64)
    layer.cells[0] = cell
    out = layer(dlx.Tensor(backend.asarray(x)), initial_state=nn.LSTMState(
        dlx.Tensor(backend.asarray(a0)), dlx.Tensor(backend.asarray(c0))))
    y, a, c = lstm_reference(x, a0, c0, *(p.to_numpy() for p in cell.weights()))
    np.testing.assert_allclose(backend.to_host(out.outputs.data), y, rtol=1e-12)
    np.testing.assert_allclose(backend.to_host(out.last_state[0].c.data), c, rtol=1e-12)
    # one step of the cell = the layer over one step
    s = cell(dlx.Tensor(backend.asarray(x[:, 0])),
             nn.LSTMState(dlx.Tensor(backend.asarray(a0)), dlx.Tensor(backend.asarray(c0))))
    np.testing.assert_allclose(backend.to_host(s.a.data), y[:, 0], rtol=1e-12)


def test_rnn_cell_step_formula(backend, rng):
    cell = nn.RNNCell(3, 4, activation="relu", dtype=F64)
    x, a0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    a = cell(dlx.Tensor(backend.asarray(x)), dlx.Tensor(backend.asarray(a0)))
    W_x, W_a, b = (p.to_numpy() for p in cell.weights())
    np.testing.assert_allclose(backend.to_host(a.data),
                               np.maximum(a0 @ W_a.T + x @ W_x.T + b, 0), rtol=1e-12)


GRAD_CASES = {"rnn-tanh": (nn.RNN, {}), "rnn-relu": (nn.RNN, {"activation": "relu"}),
              "gru": (nn.GRU, {}), "gru-pytorch": (nn.GRU, {"variant": "pytorch"}),
              "lstm": (nn.LSTM, {})}


@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
@pytest.mark.parametrize("kind", GRAD_CASES)
def test_layer_gradient_check(backend, rng, kind, masked):
    cls, kw = GRAD_CASES[kind]
    layer = cls(2, 3, dtype=F64, **kw)
    for p in layer.parameters():  # biases away from zero; ReLU kinks unlikely
        p.data = p.data + backend.asarray(rng.uniform(-0.3, 0.3, p.shape))
    x = dlx.Tensor(backend.asarray(rng.standard_normal((3, 4, 2))), requires_grad=True)
    a0 = dlx.Tensor(backend.asarray(0.5 * rng.standard_normal((3, 3))), requires_grad=True)
    state = nn.LSTMState(a0, dlx.Tensor(backend.asarray(rng.standard_normal((3, 3))),
                                        requires_grad=True)) if kind == "lstm" else a0
    lengths = np.array([2, 4, 0]) if masked else None
    leaves = [x, *(state if kind == "lstm" else (state,)), *layer.parameters()]

    def cost():
        out = layer(x, lengths=lengths, initial_state=state)
        last = out.last_state[0]
        return out.outputs.sum() * 0.5 + (last.c if kind == "lstm" else last).sum()

    assert gradient_check(cost, leaves) < 1e-7


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_bidirectional_stacked_gradient_check(backend, rng, kind):
    cls, kw = GRAD_CASES[kind]
    layer = nn.Bidirectional(cls(2, 3, num_layers=2, dtype=F64, **kw), merge="sum")
    x = dlx.Tensor(backend.asarray(rng.standard_normal((3, 4, 2))), requires_grad=True)
    lengths = np.array([4, 1, 3])
    assert directional_check(lambda: layer(x, lengths=lengths).outputs,
                             [x, *layer.parameters()], n_directions=3) < 1e-7


@pytest.mark.parametrize("make", [lambda: nn.RNNCell(3, 3, dtype=F64),
                                  lambda: nn.GRUCell(3, 3, dtype=F64),
                                  lambda: nn.GRUCell(3, 3, variant="pytorch", dtype=F64),
                                  lambda: nn.LSTMCell(3, 3, dtype=F64)],
                         ids=["rnn", "gru", "gru-pytorch", "lstm"])
def test_cell_gradient_check(backend, rng, make):
    cell = make()
    x = dlx.Tensor(backend.asarray(rng.standard_normal((2, 3))), requires_grad=True)
    c = dlx.Tensor(backend.asarray(rng.standard_normal((2, 3))), requires_grad=True)
    lstm = isinstance(cell, nn.LSTMCell)

    def cost():  # two steps, the second fed the first's output
        s1 = cell(x, nn.LSTMState(c, c * 0.5) if lstm else c)
        s2 = cell(s1.a if lstm else s1, s1)
        return (s2.c if lstm else s2) * 1.0

    assert gradient_check(cost, [x, c, *cell.parameters()]) < 1e-7


def test_dropout_between_layers_only_in_training(backend, rng):
    layer = nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=F64)
    x = dlx.Tensor(backend.asarray(rng.standard_normal((2, 5, 3))))
    y_train = backend.to_host(layer(x).outputs.data)
    layer.eval()
    y_eval = [backend.to_host(layer(x).outputs.data) for _ in range(2)]
    np.testing.assert_array_equal(y_eval[0], y_eval[1])
    assert not np.allclose(y_train, y_eval[0])


# -- variable lengths ----------------------------------------------------------------------------
def test_lengths_rules(backend, rng):
    layer = nn.LSTM(3, 4, dtype=F64)
    x = rng.standard_normal((4, 6, 3))
    lengths = np.array([4, 0, 6, 2])
    X = dlx.Tensor(backend.asarray(x), requires_grad=True)
    out = layer(X, lengths=backend.asarray(lengths))
    y = backend.to_host(out.outputs.data)
    for i, L in enumerate(lengths):
        assert (y[i, L:] == 0).all()  # padded outputs are zero
        # each row equals running it alone on its own prefix
        if L:
            alone = layer(dlx.Tensor(backend.asarray(x[i:i + 1, :L])))
            np.testing.assert_allclose(y[i, :L], backend.to_host(alone.outputs.data)[0],
                                       rtol=1e-12)
            np.testing.assert_allclose(backend.to_host(out.last_state[0].a.data)[i],
                                       backend.to_host(alone.last_state[0].a.data)[0], rtol=1e-12)
    assert not np.isnan(y).any()
    np.testing.assert_array_equal(backend.to_host(out.last_state[0].a.data)[1], 0)
    out.outputs.sum().backward()
    g = backend.to_host(X.grad)
    for i, L in enumerate(lengths):
        assert (g[i, L:] == 0).all()  # padded inputs get no gradient
    assert np.abs(g[2]).sum() > 0


def test_many_to_one_takes_lengths_minus_one(backend, rng):
    layer = nn.GRU(3, 4, return_sequences=False, dtype=F64)
    seq = nn.GRU(3, 4, dtype=F64)
    seq.cells = layer.cells
    x = dlx.Tensor(backend.asarray(rng.standard_normal((3, 5, 3))))
    lengths = np.array([5, 2, 0])
    last = backend.to_host(layer(x, lengths=lengths).outputs.data)
    full = backend.to_host(seq(x, lengths=lengths).outputs.data)
    np.testing.assert_allclose(last[:2], full[[0, 1], [4, 1]], rtol=1e-12)
    np.testing.assert_array_equal(last[2], 0)


def test_reverse_direction_starts_at_each_sequences_last_token(backend, rng):
    bi = nn.Bidirectional(nn.RNN(3, 4, dtype=F64))
    x = rng.standard_normal((2, 5, 3))
    lengths = np.array([3, 5])
    y = backend.to_host(bi(dlx.Tensor(backend.asarray(x)), lengths=lengths).outputs.data)
    # the backward half of row 0 equals running the backward cell over x[0, 2::-1]
    rev = nn.RNN(3, 4, dtype=F64)
    rev.cells = [bi.backward_cells[0]]
    alone = backend.to_host(rev(dlx.Tensor(backend.asarray(x[:1, 2::-1].copy()))).outputs.data)
    np.testing.assert_allclose(y[0, :3, 4:], alone[0, ::-1], rtol=1e-12)
    assert (y[0, 3:] == 0).all()
    assert y.shape == (2, 5, 8)


def test_one_function_per_layer_call(backend, rng):
    layer = nn.LSTM(3, 4, dtype=F64)
    x = dlx.Tensor(backend.asarray(rng.standard_normal((2, 30, 3))), requires_grad=True)
    out = layer(x)
    assert isinstance(out.outputs.creator, RecurrentSequence)
    assert out.outputs.creator.edges[0] is x  # straight to the input: no per-step graph


# -- stateful mode ---------------------------------------------------------------------------------
def test_stateful_carries_state_and_detach_cuts_the_graph(backend, rng):
    layer = nn.GRU(3, 4, stateful=True, dtype=F64)
    x = rng.standard_normal((2, 8, 3))
    whole = nn.GRU(3, 4, dtype=F64)
    whole.cells = layer.cells
    y_whole = backend.to_host(whole(dlx.Tensor(backend.asarray(x))).outputs.data)
    first = layer(dlx.Tensor(backend.asarray(x[:, :4])))
    layer.detach_state()
    second = layer(dlx.Tensor(backend.asarray(x[:, 4:])))
    np.testing.assert_allclose(backend.to_host(second.outputs.data), y_whole[:, 4:], rtol=1e-12)
    second.outputs.sum().backward()
    assert first.outputs.creator is not None  # first chunk's graph was not walked
    grad_only_second = backend.to_host(layer.cells[0].W_x.grad).copy()
    layer.reset_state()
    assert layer._carried is None
    assert np.abs(grad_only_second).sum() > 0


# -- errors -------------------------------------------------------------------------------------
def test_clear_errors():
    layer = nn.LSTM(3, 4)
    with pytest.raises(dlx.ShapeError,
                       match=r"LSTM: expected a batch-first sequence \(m, T, n_x=3\)"):
        layer(dlx.Tensor(np.zeros((2, 3))))
    with pytest.raises(dlx.ShapeError, match=r"lengths must lie in \[0, T=5\]"):
        layer(dlx.Tensor(np.zeros((2, 5, 3))), lengths=[6, 1])
    with pytest.raises(dlx.ShapeError, match=r"lengths must have shape \(2,\)"):
        layer(dlx.Tensor(np.zeros((2, 5, 3))), lengths=[5])
    with pytest.raises(dlx.DtypeError, match="lengths must be integers"):
        layer(dlx.Tensor(np.zeros((2, 5, 3))), lengths=[5.0, 1.0])
    with pytest.raises(dlx.DtypeError, match="LSTMCell: input x has dtype float64"):
        layer(dlx.Tensor(np.zeros((2, 5, 3), dtype=np.float32)).data.astype(np.float64))
    with pytest.raises(dlx.ShapeError, match=r"state a must have shape \(2, 4\)"):
        layer(dlx.Tensor(np.zeros((2, 5, 3), dtype=np.float32)),
              initial_state=nn.LSTMState(dlx.Tensor(np.zeros((2, 5))),
                                         dlx.Tensor(np.zeros((2, 4)))))
    with pytest.raises(dlx.ShapeError, match=r"LSTMCell: a step takes x_t of shape \(m, n_x=3\)"):
        nn.LSTMCell(3, 4)(dlx.Tensor(np.zeros((2, 4))))
    with pytest.raises(dlx.ConfigError, match="variant must be 'course' or 'pytorch'"):
        nn.GRU(3, 4, variant="keras")
    with pytest.raises(dlx.ConfigError, match="activation must be 'tanh' or 'relu'"):
        nn.RNNCell(3, 4, activation="sigmoid")
    with pytest.raises(dlx.ConfigError, match="merge must be 'concat' or 'sum'"):
        nn.Bidirectional(nn.GRU(3, 4), merge="mul")
    with pytest.raises(dlx.ConfigError, match="stateful layer cannot run backwards"):
        nn.Bidirectional(nn.GRU(3, 4, stateful=True))
    with pytest.raises(dlx.ConfigError, match="dropout"):
        nn.LSTM(3, 4, num_layers=2, dropout=1.0)


def test_bidirectional_many_to_one_joins_both_final_states(backend, rng):
    seq = nn.Bidirectional(nn.LSTM(3, 4, dtype=F64))
    last = nn.Bidirectional(nn.LSTM(3, 4, return_sequences=False, dtype=F64))
    last.forward_cells, last.backward_cells = seq.forward_cells, seq.backward_cells
    x = dlx.Tensor(backend.asarray(rng.standard_normal((3, 5, 3))))
    lengths = np.array([5, 2, 0])
    y = backend.to_host(seq(x, lengths=lengths).outputs.data)
    out = last(x, lengths=lengths)
    got = backend.to_host(out.outputs.data)
    np.testing.assert_allclose(got[:2, :4], y[[0, 1], [4, 1], :4], rtol=1e-12)  # forward at L-1
    np.testing.assert_allclose(got[:2, 4:], y[:2, 0, 4:], rtol=1e-12)  # backward ends at 0
    np.testing.assert_array_equal(got[2], 0)
    forward_state, backward_state = out.last_state[0]
    assert isinstance(forward_state, nn.LSTMState) and isinstance(backward_state, nn.LSTMState)
