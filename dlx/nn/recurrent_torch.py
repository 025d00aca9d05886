"""Converters between dlx recurrent layers and PyTorch's ``nn.RNN/GRU/LSTM`` state_dict layout.

PyTorch, per layer k (suffix ``_reverse`` for the backward direction): ``weight_ih_l{k}``
(G*n_a, n_in), ``weight_hh_l{k}`` (G*n_a, n_a), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (G*n_a,).
Gate order: LSTM i, f, g, o (dlx: f, u=i, c~=g, o); GRU r, z, n (dlx ``variant="pytorch"``:
z, r, n); RNN one block. PyTorch's two biases are redundant except for the GRU's n gate,
where ``b_hn`` sits inside the reset product: dlx keeps one bias per gate (the sum) and the
GRU's ``b_hn``. Exporting writes the summed bias to ``bias_ih`` and zeros to ``bias_hh``.
The course's GRU (reset before the product) has no PyTorch equivalent.

Values are host arrays (``tensor.detach().numpy()`` for torch tensors); the module's
parameters are replaced on the active backend.
"""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError
from dlx.nn.recurrent import GRUCell, LSTMCell, RNNCell, _Recurrent

#: dlx gate block i comes from PyTorch's block ORDER[i] (the permutation is its own inverse)
ORDER = {LSTMCell: (1, 0, 2, 3), GRUCell: (1, 0, 2), RNNCell: (0,)}


def _directions(module):
    """[(torch suffix, cells)] of a recurrent layer or a Bidirectional wrapper."""
    if isinstance(module, _Recurrent):
        return [("", module.cells)]
    if hasattr(module, "forward_cells"):
        return [("", module.forward_cells), ("_reverse", module.backward_cells)]
    raise ConfigError(f"torch converters take an RNN, GRU, LSTM or Bidirectional layer, got "
                      f"{type(module).__name__}")


def _check(cell) -> None:
    if isinstance(cell, GRUCell) and cell.variant != "pytorch":
        raise ConfigError("the course's GRU (reset gate before the product) has no PyTorch "
                          "equivalent; build the layer with variant='pytorch' to convert")


def _permute(xp, a, order, n):
    return xp.concatenate([a[k * n:(k + 1) * n] for k in order])


def from_torch_state_dict(module, state: dict) -> None:
    """Set ``module``'s parameters from a PyTorch ``state_dict`` (host arrays)."""
    host = backends.get("numpy").xp
    backend = backends.current()
    for suffix, cells in _directions(module):
        for k, cell in enumerate(cells):
            _check(cell)
            order, n = ORDER[type(cell)], cell.n_a
            try:
                w_ih, w_hh, b_ih, b_hh = (host.asarray(state[f"{name}_l{k}{suffix}"],
                                                       dtype=host.float64)
                                          for name in ("weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh"))
            except KeyError as exc:
                raise ConfigError(f"PyTorch state_dict lacks {exc.args[0]!r}; it has "
                                  f"{sorted(state)}") from None
            if w_ih.shape != tuple(cell.W_x.shape) or w_hh.shape != tuple(cell.W_a.shape):
                raise ConfigError(f"layer {k}{suffix}: PyTorch weights {w_ih.shape}, "
                                  f"{w_hh.shape} do not fit {cell!r}")
            bias = b_ih + b_hh
            if isinstance(cell, GRUCell):
                bias[2 * n:] = b_ih[2 * n:]
                cell.b_hn.data = backend.asarray(b_hh[2 * n:], dtype=cell.dtype)
            cell.W_x.data = backend.asarray(_permute(host, w_ih, order, n), dtype=cell.dtype)
            cell.W_a.data = backend.asarray(_permute(host, w_hh, order, n), dtype=cell.dtype)
            cell.b.data = backend.asarray(_permute(host, bias, order, n), dtype=cell.dtype)


def to_torch_state_dict(module) -> dict:
    """``module``'s parameters in PyTorch's layout (host arrays)."""
    host = backends.get("numpy").xp
    out = {}
    for suffix, cells in _directions(module):
        for k, cell in enumerate(cells):
            _check(cell)
            order, n = ORDER[type(cell)], cell.n_a
            b_ih = _permute(host, cell.b.to_numpy(), order, n)
            b_hh = host.zeros_like(b_ih)
            if isinstance(cell, GRUCell):
                b_hh[2 * n:] = cell.b_hn.to_numpy()
            out[f"weight_ih_l{k}{suffix}"] = _permute(host, cell.W_x.to_numpy(), order, n)
            out[f"weight_hh_l{k}{suffix}"] = _permute(host, cell.W_a.to_numpy(), order, n)
            out[f"bias_ih_l{k}{suffix}"] = b_ih
            out[f"bias_hh_l{k}{suffix}"] = b_hh
    return out
