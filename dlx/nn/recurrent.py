"""Recurrent cells and layers (course 5, week 1): RNN, GRU, LSTM, stacked and bidirectional.

Shapes (batch-first): x (m, T_x, n_x) -- the course's x<i><t> is ``x[i, t]``; states a<t>
(and the LSTM's c<t>) are (m, n_a). Weights keep the course's (n_out, n_in) orientation,
split into the input and the recurrent half of the course's W acting on [a<t-1>, x<t>]:

    W_x: (G*n_a, n_x),  W_a: (G*n_a, n_a),  b: (G*n_a,)      gate blocks of n_a rows

with G and the block order: RNN 1 [a]; LSTM 4 [f, u, c~, o] (Gf, Gu, c~, Go); the course's GRU
3 [u, r, c~]; PyTorch's GRU variant 3 [z, r, n] plus ``b_hn`` (n_a,), the bias inside the
reset product. So the course's ``W_f`` is ``concat(W_a[f], W_x[f], axis=1)``.

A layer call records one Function per layer and direction
(:mod:`dlx.functional.recurrent`); a cell call is the same Function over one step.
"""

from __future__ import annotations

from typing import NamedTuple

from dlx import backends, init
from dlx import functional as F
from dlx.core import Parameter, Tensor, as_tensor
from dlx.errors import ConfigError, DtypeError, ShapeError
from dlx.functional.recurrent import recurrent_sequence
from dlx.nn.module import Module


class LSTMState(NamedTuple):
    """The LSTM's state: a<t> (hidden) and c<t> (memory cell), each (m, n_a)."""

    a: Tensor
    c: Tensor


class RecurrentOutput(NamedTuple):
    """What a recurrent layer returns.

    outputs: (m, T, n_out) with ``return_sequences`` (zero past each sequence's end), else
    (m, n_out), the state each sequence ended in (taken at lengths - 1; zeros for an empty
    sequence). last_state: one entry per layer -- a Tensor (RNN, GRU) or an
    :class:`LSTMState`; a ``(forward, backward)`` pair per layer for :class:`Bidirectional`.
    """

    outputs: Tensor
    last_state: tuple


def orthogonal(shape, dtype=None):
    """A matrix with orthonormal rows (or columns), from the backend's generator (QR of a
    Gaussian matrix, signs fixed by R's diagonal; Saxe et al. 2014)."""
    backend = backends.current()
    xp = backend.xp
    rows, cols = shape
    g = backend.rng.standard_normal((max(rows, cols), min(rows, cols)), dtype=xp.float64)
    q, r = xp.linalg.qr(g)
    q = q * xp.sign(xp.diagonal(r))
    q = q if rows >= cols else q.T
    return q.astype(dtype or backend.default_dtype)


# -- cells ------------------------------------------------------------------------------------
class _Cell(Module):
    """Parameters of one cell and its step / whole-sequence computation."""

    gates = 1
    name = "cell"

    def __init__(self, n_x: int, n_a: int, dtype=None):
        super().__init__()
        if int(n_x) <= 0 or int(n_a) <= 0:
            raise ConfigError(f"{self.name}: n_x and n_a must be positive, got {n_x}, {n_a}")
        self.n_x, self.n_a = int(n_x), int(n_a)
        dtype = dtype or backends.current().default_dtype
        G, n = self.gates, self.n_a
        xp = backends.current().xp
        self.W_x = Parameter(init.xavier((G * n, self.n_x), dtype), name="W_x")
        self.W_a = Parameter(xp.concatenate([orthogonal((n, n), dtype) for _ in range(G)]),
                             name="W_a")
        self.b = Parameter(self.initial_bias(dtype), name="b")

    @property
    def kind(self) -> str:
        raise NotImplementedError

    @property
    def dtype(self):
        return self.W_x.dtype

    def initial_bias(self, dtype):
        return init.zeros((self.gates * self.n_a,), dtype)

    def weights(self) -> tuple:
        return self.W_x, self.W_a, self.b

    def zero_state(self, m: int):
        return Tensor(backends.current().xp.zeros((m, self.n_a), dtype=self.dtype))

    def check_state(self, state, m: int):
        """``state`` as this cell's state for a batch of m (zeros when None)."""
        if state is None:
            return self.zero_state(m)
        state = as_tensor(state)
        self._check_tensor("state", state, (m, self.n_a))
        return state

    def _check_tensor(self, what, t, shape) -> None:
        if tuple(t.shape) != tuple(shape):
            raise ShapeError(f"{self.name}: {what} must have shape {tuple(shape)}, got "
                             f"{tuple(t.shape)}")
        if t.dtype != self.dtype:
            raise DtypeError(f"{self.name}: {what} has dtype {t.dtype}, the cell's weights are "
                             f"{self.dtype}")

    def sequence(self, x: Tensor, lengths, state=None, reverse: bool = False,
                 masked: bool = True):
        """Run over x (m, T, n_x) -> (Y (m, T, n_a), last state); lengths: (m,) int64 device
        array (see :func:`check_lengths`); ``masked=False`` when every length is T."""
        m = x.shape[0]
        self._check_tensor("input x", x, (m, x.shape[1], self.n_x))
        outs = recurrent_sequence(self.kind, x, self.check_state(state, m), self.weights(),
                                  lengths, reverse, masked)
        return outs[0], self.pack_state(outs[1:])

    def pack_state(self, outs):
        return outs[0]

    def forward(self, x_t, state=None):
        """One step: x_t (m, n_x) and the previous state -> the new state."""
        x_t = as_tensor(x_t)
        if x_t.ndim != 2 or x_t.shape[1] != self.n_x:
            raise ShapeError(f"{self.name}: a step takes x_t of shape (m, n_x={self.n_x}), got "
                             f"{tuple(x_t.shape)}")
        m = x_t.shape[0]
        _, last = self.sequence(x_t.reshape(m, 1, self.n_x), full_lengths(m, 1), state,
                                masked=False)
        return last

    def __repr__(self):
        return f"{type(self).__name__}({self.n_x}, {self.n_a})"


class RNNCell(_Cell):
    """a<t> = g(W_aa a<t-1> + W_ax x<t> + b_a), g = tanh (default) or ReLU."""

    name = "RNNCell"

    def __init__(self, n_x: int, n_a: int, activation: str = "tanh", dtype=None):
        if activation not in ("tanh", "relu"):
            raise ConfigError(f"RNNCell: activation must be 'tanh' or 'relu', got "
                              f"{activation!r}")
        self.activation = activation
        super().__init__(n_x, n_a, dtype)

    @property
    def kind(self):
        return f"rnn-{self.activation}"

    def __repr__(self):
        return f"RNNCell({self.n_x}, {self.n_a}, activation={self.activation!r})"


class GRUCell(_Cell):
    """Gated recurrent unit; ``variant="course"`` (default) or ``"pytorch"``.

    The update-gate bias starts at -1 (course; +1 for PyTorch's flipped z), see
    :meth:`initial_bias`.

    course: Gu = sigma(W_u [c<t-1>, x<t>] + b_u), Gr = sigma(W_r [c<t-1>, x<t>] + b_r),
    c~<t> = tanh(W_c [Gr * c<t-1>, x<t>] + b_c), c<t> = Gu * c~<t> + (1 - Gu) * c<t-1>, a<t> = c<t>.
    pytorch (also cuDNN's and Keras' default, reset after the product, update gate flipped):
    z = sigma(...), r = sigma(...), n = tanh(W_n x + b_n + r * (U_n h + b_hn)),
    h = (1 - z) * n + z * h<t-1>.
    """

    gates = 3
    name = "GRUCell"

    def __init__(self, n_x: int, n_a: int, variant: str = "course", dtype=None):
        if variant not in ("course", "pytorch"):
            raise ConfigError(f"GRUCell: variant must be 'course' or 'pytorch', got "
                              f"{variant!r}")
        self.variant = variant
        super().__init__(n_x, n_a, dtype)
        if variant == "pytorch":
            self.b_hn = Parameter(init.zeros((self.n_a,), self.dtype), name="b_hn")

    @property
    def kind(self):
        return "gru" if self.variant == "course" else "gru-pytorch"

    def initial_bias(self, dtype):
        """The gate that keeps c<t-1> starts open at sigma(1) = 0.73, the GRU analogue of the
        LSTM's forget bias of 1: b_u = -1 (course; Gu replaces the state), b_z = +1 (pytorch;
        z keeps it). With zero biases half the state is lost every step and a 50-step
        dependency is out of reach at the start of training."""
        b = init.zeros((3 * self.n_a,), dtype)
        b[:self.n_a] = -1 if self.variant == "course" else 1
        return b

    def weights(self):
        return super().weights() + ((self.b_hn,) if self.variant == "pytorch" else ())

    def __repr__(self):
        return f"GRUCell({self.n_x}, {self.n_a}, variant={self.variant!r})"


class LSTMCell(_Cell):
    """Long short-term memory, the course's gates (forget-gate bias initialised to 1):

    Gf = sigma(W_f [a<t-1>, x<t>] + b_f), Gu = sigma(W_u [...] + b_u),
    c~<t> = tanh(W_c [...] + b_c), Go = sigma(W_o [...] + b_o),
    c<t> = Gf * c<t-1> + Gu * c~<t>, a<t> = Go * tanh(c<t>).
    The state is an :class:`LSTMState` (a, c).
    """

    gates = 4
    name = "LSTMCell"
    kind = "lstm"

    def initial_bias(self, dtype):
        b = init.zeros((4 * self.n_a,), dtype)
        b[:self.n_a] = 1  # forget gate open at the start (Gers et al. 2000; Jozefowicz 2015)
        return b

    def zero_state(self, m):
        return LSTMState(super().zero_state(m), super().zero_state(m))

    def check_state(self, state, m):
        if state is None:
            return self.zero_state(m)
        if not (isinstance(state, tuple) and len(state) == 2):
            raise ConfigError(f"LSTMCell: the state must be an LSTMState(a, c), got "
                              f"{type(state).__name__}")
        a, c = as_tensor(state[0]), as_tensor(state[1])
        self._check_tensor("state a", a, (m, self.n_a))
        self._check_tensor("state c", c, (m, self.n_a))
        return LSTMState(a, c)

    def pack_state(self, outs):
        return LSTMState(*outs)


# -- lengths ------------------------------------------------------------------------------------
def full_lengths(m: int, T: int):
    xp = backends.current().xp
    return xp.full((m,), T, dtype=xp.int64)


def check_lengths(where: str, lengths, m: int, T: int):
    """``lengths`` (any order, host or device integers, 0 <= L <= T) as (m,) int64 on the
    active backend; all T when None. Reads the values to the host once to check them."""
    if lengths is None:
        return full_lengths(m, T)
    backend = backends.current()
    xp = backend.xp
    if isinstance(lengths, Tensor):
        lengths = lengths.data
    host = backends.backend_of(lengths).to_host(lengths) if hasattr(lengths, "dtype") \
        else backends.get("numpy").xp.asarray(lengths)
    if host.dtype.kind not in "iu":
        raise DtypeError(f"{where}: lengths must be integers, got dtype {host.dtype}")
    if host.shape != (m,):
        raise ShapeError(f"{where}: lengths must have shape ({m},) (one per sequence), got "
                         f"{host.shape}")
    if m and (host.min() < 0 or host.max() > T):
        raise ShapeError(f"{where}: lengths must lie in [0, T={T}], got min {host.min()} and "
                         f"max {host.max()}")
    return backend.asarray(host).astype(xp.int64)


def _as_sequence(where: str, x, n_x: int):
    x = as_tensor(x)
    if x.ndim != 3 or x.shape[2] != n_x:
        raise ShapeError(f"{where}: expected a batch-first sequence (m, T, n_x={n_x}), got "
                         f"shape {tuple(x.shape)}")
    if x.shape[1] == 0:
        raise ShapeError(f"{where}: the sequence has no time steps (T = 0)")
    return x


def _state_of(state):
    return state.a if isinstance(state, LSTMState) else state


def _final_output(state, lengths, given: bool):
    """The last output of each sequence: its final a, zero where the length is 0."""
    a = _state_of(state)
    if not given:
        return a
    return a * Tensor((lengths > 0).astype(a.dtype)[:, None])


# -- layers -----------------------------------------------------------------------------------
class _Recurrent(Module):
    """A stack of ``num_layers`` cells over whole sequences (see :meth:`forward`).

    dropout: probability of dropping each unit of a layer's outputs before the next layer
    (training only); stateful: every call starts from the state the previous one ended in
    (truncated BPTT with :meth:`detach_state`); dtype: of the weights (default: the
    backend's); further options go to the cells (``activation``, ``variant``).
    """

    cell_class: type = _Cell

    def __init__(self, n_x: int, n_a: int, num_layers: int = 1, return_sequences: bool = True,
                 dropout: float = 0.0, stateful: bool = False, dtype=None, **cell_options):
        super().__init__()
        name = type(self).__name__
        if int(num_layers) < 1:
            raise ConfigError(f"{name}: num_layers must be >= 1, got {num_layers}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ConfigError(f"{name}: dropout (the probability of dropping a unit between "
                              f"layers) must be in [0, 1), got {dropout}")
        self.n_x, self.n_a, self.num_layers = int(n_x), int(n_a), int(num_layers)
        self.return_sequences, self.dropout = bool(return_sequences), float(dropout)
        self.stateful = bool(stateful)
        self.cell_options = dict(cell_options)
        self.cells = [self.cell_class(self.n_x if i == 0 else self.n_a, self.n_a, dtype=dtype,
                                      **cell_options) for i in range(self.num_layers)]
        self._carried = None

    @property
    def dtype(self):
        return self.cells[0].dtype

    def _initial_states(self, initial_state):
        if initial_state is None:
            return self._carried if self.stateful and self._carried is not None \
                else (None,) * self.num_layers
        if self.num_layers == 1 and not (isinstance(initial_state, tuple)
                                         and not isinstance(initial_state, LSTMState)):
            return (initial_state,)
        if not isinstance(initial_state, (tuple, list)) or len(initial_state) != self.num_layers:
            raise ConfigError(f"{type(self).__name__}: initial_state must hold one state per "
                              f"layer ({self.num_layers}), got {type(initial_state).__name__}")
        return tuple(initial_state)

    def _between_layers(self, y):
        if self.dropout and self.training:
            return F.dropout(y, 1.0 - self.dropout)
        return y

    def forward(self, x, lengths=None, initial_state=None) -> RecurrentOutput:
        """x (m, T, n_x); lengths (m,) in any order; initial_state: one per layer (a single
        state is accepted for one layer). See :class:`RecurrentOutput`."""
        where = type(self).__name__
        x = _as_sequence(where, x, self.n_x)
        m, T = x.shape[0], x.shape[1]
        given = lengths is not None
        lengths = check_lengths(where, lengths, m, T)
        states = self._initial_states(initial_state)
        y, last = x, []
        for i, cell in enumerate(self.cells):
            if i:
                y = self._between_layers(y)
            y, state = cell.sequence(y, lengths, states[i], masked=given)
            last.append(state)
        if self.stateful:
            self._carried = tuple(last)
        out = y if self.return_sequences else _final_output(last[-1], lengths, given)
        return RecurrentOutput(out, tuple(last))

    # -- stateful mode (truncated backpropagation through time) ----------------------------------
    def detach_state(self) -> None:
        """Keep the carried state's values but cut the graph behind it (truncated BPTT)."""
        if self._carried is not None:
            self._carried = tuple(
                LSTMState(s.a.detach(), s.c.detach()) if isinstance(s, LSTMState) else s.detach()
                for s in self._carried)

    def reset_state(self) -> None:
        """Forget the carried state: the next call starts from zeros."""
        self._carried = None

    def __repr__(self):
        options = "".join(f", {k}={v!r}" for k, v in self.cell_options.items())
        return (f"{type(self).__name__}({self.n_x}, {self.n_a}, num_layers={self.num_layers}, "
                f"return_sequences={self.return_sequences}{options})")


class RNN(_Recurrent):
    """A plain recurrent layer of :class:`RNNCell` (``activation="tanh"`` or ``"relu"``)."""

    cell_class = RNNCell


class GRU(_Recurrent):
    """A GRU layer (``variant="course"`` or ``"pytorch"``, see :class:`GRUCell`)."""

    cell_class = GRUCell


class LSTM(_Recurrent):
    """An LSTM layer of :class:`LSTMCell`; states are :class:`LSTMState`."""

    cell_class = LSTMCell


class Bidirectional(Module):
    """Both directions of a recurrent layer, outputs merged by ``concat`` or ``sum``.

    The backward direction reads each sequence from its own last token (lengths - 1) back to
    the first. Stacked layers feed each layer the merged outputs of the one below (PyTorch's
    and Keras' rule), so layers above the first take 2*n_a inputs with ``concat``. The wrapped
    layer's cells are the forward direction wherever their sizes fit (always the first layer);
    the backward direction's cells are new.
    """

    def __init__(self, layer: _Recurrent, merge: str = "concat"):
        super().__init__()
        if not isinstance(layer, _Recurrent):
            raise ConfigError(f"Bidirectional: wraps an RNN, GRU or LSTM layer, got "
                              f"{type(layer).__name__}")
        if merge not in ("concat", "sum"):
            raise ConfigError(f"Bidirectional: merge must be 'concat' or 'sum', got {merge!r}")
        if layer.stateful:
            raise ConfigError("Bidirectional: a stateful layer cannot run backwards in time")
        self.layer_type, self.merge = type(layer).__name__, merge
        self.n_x, self.n_a, self.num_layers = layer.n_x, layer.n_a, layer.num_layers
        self.return_sequences, self.dropout = layer.return_sequences, layer.dropout
        width = 2 * layer.n_a if merge == "concat" else layer.n_a
        make = layer.cell_class
        options = dict(layer.cell_options, dtype=layer.dtype)
        self.forward_cells = [cell if i == 0 or width == layer.n_a else
                              make(width, layer.n_a, **options)
                              for i, cell in enumerate(layer.cells)]
        self.backward_cells = [make(layer.n_x if i == 0 else width, layer.n_a, **options)
                               for i in range(layer.num_layers)]

    @property
    def n_out(self) -> int:
        return 2 * self.n_a if self.merge == "concat" else self.n_a

    def _merge(self, f, b):
        return F.concat([f, b], axis=-1) if self.merge == "concat" else f + b

    def forward(self, x, lengths=None, initial_state=None) -> RecurrentOutput:
        """As the wrapped layer; initial_state: one (forward, backward) pair per layer."""
        where = f"Bidirectional({self.layer_type})"
        x = _as_sequence(where, x, self.n_x)
        m, T = x.shape[0], x.shape[1]
        given = lengths is not None
        lengths = check_lengths(where, lengths, m, T)
        if initial_state is None:
            initial_state = ((None, None),) * self.num_layers
        elif len(initial_state) != self.num_layers:
            raise ConfigError(f"{where}: initial_state must hold one (forward, backward) pair "
                              f"per layer ({self.num_layers}), got {len(initial_state)}")
        y, last = x, []
        for i, (fc, bc) in enumerate(zip(self.forward_cells, self.backward_cells)):
            if i and self.dropout and self.training:
                y = F.dropout(y, 1.0 - self.dropout)
            f0, b0 = initial_state[i]
            yf, sf = fc.sequence(y, lengths, f0, masked=given)
            yb, sb = bc.sequence(y, lengths, b0, reverse=True, masked=given)
            y = self._merge(yf, yb)
            last.append((sf, sb))
        if self.return_sequences:
            out = y
        else:
            sf, sb = last[-1]
            out = self._merge(_final_output(sf, lengths, given), _final_output(sb, lengths, given))
        return RecurrentOutput(out, tuple(last))

    def __repr__(self):
        return f"Bidirectional({self.layer_type}({self.n_x}, {self.n_a}), merge={self.merge!r})"

