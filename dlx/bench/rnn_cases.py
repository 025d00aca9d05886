"""Benchmark rows of the recurrent layers, with their PyTorch (CPU) twins.

* ``lstm layer fwd+bwd m64 T50 128->128``: one LSTM layer over x (64, 50, 128) float32,
  forward and backward of a fixed upstream gradient (every input, state and weight
  gradient); PyTorch's ``nn.LSTM`` with the same weights (converted) and numbers.
* ``adam step charlm lstm64 V27 b32 T12``: one Adam step of the character-level language
  model (LSTM 64 units, vocabulary 27, 32 sequences of 12 one-hot characters, softmax
  cross-entropy per character).

The dlx callables return what they computed, so the emulated backend's results can be
checked against NumPy's on the same rows (``tests/test_bench_rnn.py``).
"""

from __future__ import annotations

from dlx import backends
from dlx.bench.cases import Case, host_labels, host_normal

LSTM_M, LSTM_T, LSTM_NX, LSTM_NA = 64, 50, 128, 128
LM_V, LM_NA, LM_M, LM_T = 27, 64, 32, 12
LSTM_ROW = f"lstm layer fwd+bwd m{LSTM_M} T{LSTM_T} {LSTM_NX}->{LSTM_NA}"
CHARLM_ROW = f"adam step charlm lstm{LM_NA} V{LM_V} b{LM_M} T{LM_T}"


def torch_lstm_state(n_x: int, n_a: int, seed: int) -> dict:
    """PyTorch-layout LSTM weights (host float32), uniform(-1/sqrt(n_a), 1/sqrt(n_a)) like
    PyTorch's default, from a seeded generator."""
    k = n_a ** -0.5
    shapes = {"weight_ih_l0": (4 * n_a, n_x), "weight_hh_l0": (4 * n_a, n_a),
              "bias_ih_l0": (4 * n_a,), "bias_hh_l0": (4 * n_a,)}
    gen = backends.get("numpy").xp.random.default_rng(seed)
    return {name: gen.uniform(-k, k, shape).astype("float32") for name, shape in shapes.items()}


def _dev(host):
    return backends.current().asarray(host)


def lstm_layer_fwd_bwd():
    from dlx.core import Tensor
    from dlx.nn import LSTM
    from dlx.nn.recurrent_torch import from_torch_state_dict

    layer = LSTM(LSTM_NX, LSTM_NA)
    from_torch_state_dict(layer, torch_lstm_state(LSTM_NX, LSTM_NA, 40))
    x = Tensor(_dev(host_normal((LSTM_M, LSTM_T, LSTM_NX), 41)), requires_grad=True)
    gy = _dev(host_normal((LSTM_M, LSTM_T, LSTM_NA), 42))
    params = layer.parameters()

    def run():
        x.grad = None
        for p in params:
            p.grad = None
        out = layer(x).outputs
        out.backward(gy)
        return [out.data, x.grad] + [p.grad for p in params]
    return run


def torch_lstm_layer_fwd_bwd():
    from dlx.bench.torch_ref import torch_module

    torch = torch_module()
    layer = torch.nn.LSTM(LSTM_NX, LSTM_NA, batch_first=True)
    layer.load_state_dict({k: torch.from_numpy(v)
                           for k, v in torch_lstm_state(LSTM_NX, LSTM_NA, 40).items()})
    x = torch.from_numpy(host_normal((LSTM_M, LSTM_T, LSTM_NX), 41)).requires_grad_(True)
    gy = torch.from_numpy(host_normal((LSTM_M, LSTM_T, LSTM_NA), 42))

    def run():
        x.grad = None
        layer.zero_grad(set_to_none=True)
        y, _ = layer(x)
        y.backward(gy)
    return run


def _lm_batch():
    """(one-hot inputs (m, T, V) float32, targets (m*T,) int64) on the host."""
    xp = backends.get("numpy").xp
    tokens = host_labels(LM_M * (LM_T + 1), LM_V, 43).reshape(LM_M, LM_T + 1)
    return xp.eye(LM_V, dtype="float32")[tokens[:, :-1]], tokens[:, 1:].reshape(-1)


def charlm_adam_step():
    from dlx.core import Tensor
    from dlx.models.charlm import CharLM
    from dlx.nn.recurrent_torch import from_torch_state_dict
    from dlx.optim import Adam

    backends.current().seed(0)
    model = CharLM(LM_V, LM_NA, "lstm")
    from_torch_state_dict(model.rnn, torch_lstm_state(LM_V, LM_NA, 44))
    x_host, t_host = _lm_batch()
    x, t = Tensor(_dev(x_host)), _dev(t_host)
    lengths = _dev(host_labels(LM_M, 1, 0) + LM_T)
    opt = Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = model.loss(x, t, lengths)
        loss.backward()
        opt.step()
        return [loss.data] + [p.data for p in model.parameters()]
    return step


def torch_charlm_adam_step():
    from dlx.bench.torch_ref import torch_module

    torch = torch_module()
    torch.manual_seed(0)
    rnn = torch.nn.LSTM(LM_V, LM_NA, batch_first=True)
    rnn.load_state_dict({k: torch.from_numpy(v)
                         for k, v in torch_lstm_state(LM_V, LM_NA, 44).items()})
    head = torch.nn.Linear(LM_NA, LM_V)
    x_host, t_host = _lm_batch()
    x, t = torch.from_numpy(x_host), torch.from_numpy(t_host)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        y, _ = rnn(x)
        torch.nn.functional.cross_entropy(head(y.reshape(-1, LM_NA)), t).backward()
        opt.step()
    return step


def cases() -> list[Case]:
    flops = 2.0 * LSTM_M * LSTM_T * 4 * LSTM_NA * (LSTM_NX + LSTM_NA) * 3
    return [Case(LSTM_ROW, "recurrent", lstm_layer_fwd_bwd, torch_lstm_layer_fwd_bwd, flops,
                 memory=True),
            Case(CHARLM_ROW, "recurrent", charlm_adam_step, torch_charlm_adam_step)]
