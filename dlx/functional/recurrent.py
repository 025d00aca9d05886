"""A whole recurrent layer (one direction, one layer) as one differentiable Function.

``recurrent_sequence(kind, x, state, weights, lengths, reverse)`` runs a cell over a batch-first
sequence x (m, T, n_x) and records a single Function in the graph, however long T is:

* forward: the input projection of all steps is one GEMM, ``Z = X W_x^T + b`` (T*m, G*n_a);
  each step then adds one recurrent GEMM and calls the backend's fused pointwise primitive
  (:mod:`dlx.backends.rnn_cells_numpy` documents them; a CUDA kernel on the GPU). It saves
  the pre-activations Z and the states, nothing else;
* backward: walks the steps in reverse, recomputing the gate activations from Z inside the
  pointwise backward primitive, then forms the weight gradients with three GEMMs over all
  steps at once.

Kinds and their gate blocks (width n_a each, rows of W_x, W_a and b in this order):
``rnn-tanh``/``rnn-relu`` [a]; ``lstm`` [f, u, c~, o]; ``gru`` (the course's) [u, r, c~];
``gru-pytorch`` [z, r, n] plus the recurrent candidate bias ``b_hn``.

Variable lengths: ``lengths`` (m,) int64 on the device; row i updates its state only while
t < lengths[i], outputs past its end are zero and get no gradient. With ``reverse`` each
sequence is read from its own last token back to its first (outputs are returned in the
original order), so padding on the right never enters the reverse direction first.

Outputs: ``(Y, a_last)`` or, for the LSTM, ``(Y, a_last, c_last)``: Y (m, T, n_a), the states
after the last step (for a finished row: its state at lengths - 1; the initial state when the
length is 0).
"""

from __future__ import annotations

from dlx.core import Function, Tensor
from dlx.errors import ConfigError

KINDS = ("rnn-tanh", "rnn-relu", "lstm", "gru", "gru-pytorch")
#: gate blocks per kind
GATES = {"rnn-tanh": 1, "rnn-relu": 1, "lstm": 4, "gru": 3, "gru-pytorch": 3}


class RecurrentSequence(Function):
    """Inputs ``(x, a0, [c0], W_x, W_a, b, [b_hn])``; see the module docstring."""

    def __init__(self, kind: str, lengths, reverse: bool = False):
        if kind not in KINDS:
            raise ConfigError(f"recurrent_sequence: unknown cell kind {kind!r}; expected one "
                              f"of {', '.join(KINDS)}")
        self.kind, self.lengths, self.reverse = kind, lengths, bool(reverse)

    # -- layout helpers ------------------------------------------------------------------------
    def _time_major(self, a):
        """(m, T, k) batch-first -> (T, m, k) C-contiguous, reversed within lengths if asked."""
        xp = self.xp
        a = a.transpose(1, 0, 2)
        if self.reverse:
            return a[self.reverse_index, xp.arange(a.shape[1])[None, :]]
        return xp.ascontiguousarray(a)

    def _batch_first(self, a):
        """The inverse of :meth:`_time_major` (the reversal is its own inverse)."""
        if self.reverse:
            a = a[self.reverse_index, self.xp.arange(a.shape[1])[None, :]]
        return self.xp.ascontiguousarray(a.transpose(1, 0, 2))

    def _active_mask(self, T, dtype):
        """(T, m, 1): 1 where step t is inside row i's sequence."""
        xp = self.xp
        return (xp.arange(T)[:, None] < self.lengths[None, :]).astype(dtype)[:, :, None]

    # -- forward -------------------------------------------------------------------------------
    def forward(self, x, *rest):
        xp, be = self.xp, self.backend
        lstm = self.kind == "lstm"
        a0, rest = rest[0], rest[1:]
        c0 = None
        if lstm:
            c0, rest = rest[0], rest[1:]
        W_x, W_a, b = rest[:3]
        b_hn = rest[3] if self.kind == "gru-pytorch" else None
        m, T, n_x = x.shape
        n = W_a.shape[1]
        if self.reverse:
            t = xp.arange(T)[:, None]
            L = self.lengths[None, :]
            self.reverse_index = xp.where(t < L, L - 1 - t, t)
        xt = self._time_major(x)
        Z = (xt.reshape(T * m, n_x) @ W_x.T).reshape(T, m, -1)
        Z += b
        A = xp.empty((T, m, n), dtype=x.dtype)
        self.shapes = (m, T, n_x, n)
        self.xt, self.a0, self.W_x, self.W_a = xt, a0, W_x, W_a
        a = a0
        # the recurrent product goes to a buffer allocated once: a fresh (m, G*n) array per
        # step can exceed glibc's mmap threshold and cost page faults every step
        rec = xp.empty_like(Z[0])
        if self.kind.startswith("rnn"):
            relu = self.kind == "rnn-relu"
            for t in range(T):
                Z[t] += xp.matmul(a, W_a.T, out=rec)
                be.rnn_fwd(Z[t], a, self.lengths, t, relu, A[t])
                a = A[t]
        elif lstm:
            C = xp.empty_like(A)
            c = c0
            for t in range(T):
                Z[t] += xp.matmul(a, W_a.T, out=rec)
                be.lstm_fwd(Z[t], a, c, self.lengths, t, A[t], C[t])
                a, c = A[t], C[t]
            self.C, self.c0 = C, c0
        elif self.kind == "gru":
            W_ur, W_c = W_a[:2 * n], W_a[2 * n:]
            rc = xp.empty((m, n), dtype=x.dtype)
            rec_ur, rec_c = xp.empty((m, 2 * n), x.dtype), xp.empty((m, n), x.dtype)
            for t in range(T):
                z = Z[t]
                z[:, :2 * n] += xp.matmul(a, W_ur.T, out=rec_ur)
                be.gru_reset_fwd(z, a, rc)
                z[:, 2 * n:] += xp.matmul(rc, W_c.T, out=rec_c)
                be.gru_state_fwd(z, a, self.lengths, t, A[t])
                a = A[t]
        else:  # gru-pytorch
            Zh = xp.empty_like(Z)
            for t in range(T):
                xp.matmul(a, W_a.T, out=Zh[t])
                be.gru_torch_fwd(Z[t], Zh[t], b_hn, a, self.lengths, t, A[t])
                a = A[t]
            self.Zh, self.b_hn = Zh, b_hn
        self.Z, self.A = Z, A
        Y = self._batch_first(A * self._active_mask(T, x.dtype))
        if lstm:
            return Y, A[T - 1].copy(), C[T - 1].copy()
        return Y, A[T - 1].copy()

    # -- backward ------------------------------------------------------------------------------
    def backward(self, gy, ga_last, gc_last=None):
        xp, be = self.xp, self.backend
        m, T, n_x, n = self.shapes
        Z, A, W_a = self.Z, self.A, self.W_a
        dtype = A.dtype
        gA = None if gy is None else self._time_major(gy) * self._active_mask(T, dtype)
        da = xp.zeros((m, n), dtype) if ga_last is None else ga_last.copy()
        dZ = xp.empty_like(Z)
        prev = xp.empty_like(A)  # states entering each step: a0, A[0], ..., A[T-2]
        prev[0] = self.a0
        prev[1:] = A[:-1]
        if self.kind.startswith("rnn"):
            relu, da_pass = self.kind == "rnn-relu", xp.empty((m, n), dtype)
            for t in range(T - 1, -1, -1):
                if gA is not None:
                    da += gA[t]
                be.rnn_bwd(Z[t], da, self.lengths, t, relu, dZ[t], da_pass)
                xp.matmul(dZ[t], W_a, out=da)  # da is consumed: reuse its buffer
                da += da_pass
            dW_a = dZ.reshape(T * m, -1).T @ prev.reshape(T * m, n)
        elif self.kind == "lstm":
            C, da_pass = self.C, xp.empty((m, n), dtype)
            dc = xp.zeros((m, n), dtype) if gc_last is None else gc_last.copy()
            dc_prev = xp.empty((m, n), dtype)
            for t in range(T - 1, -1, -1):
                if gA is not None:
                    da += gA[t]
                c_prev = C[t - 1] if t > 0 else self.c0
                be.lstm_bwd(Z[t], c_prev, C[t], da, dc, self.lengths, t, dZ[t], dc_prev,
                            da_pass)
                xp.matmul(dZ[t], W_a, out=da)
                da += da_pass
                dc, dc_prev = dc_prev, dc
            dW_a = dZ.reshape(T * m, -1).T @ prev.reshape(T * m, n)
            self.dc0 = dc
        elif self.kind == "gru":
            W_ur, W_c = W_a[:2 * n], W_a[2 * n:]
            dc_prev = xp.empty((m, n), dtype)
            for t in range(T - 1, -1, -1):
                if gA is not None:
                    da += gA[t]
                be.gru_state_bwd(Z[t], prev[t], da, self.lengths, t, dZ[t], dc_prev)
                drc = dZ[t][:, 2 * n:] @ W_c
                be.gru_reset_bwd(Z[t], prev[t], drc, dZ[t], dc_prev)
                da = dZ[t][:, :2 * n] @ W_ur
                da += dc_prev
            # Gr * c_prev is recomputed for all steps at once rather than saved
            rc = xp.empty((T * m, n), dtype)
            be.gru_reset_fwd(Z.reshape(T * m, -1), prev.reshape(T * m, n), rc)
            dZ2 = dZ.reshape(T * m, -1)
            dW_a = xp.concatenate([dZ2[:, :2 * n].T @ prev.reshape(T * m, n),
                                   dZ2[:, 2 * n:].T @ rc])
        else:  # gru-pytorch
            dZh, dh_prev = xp.empty_like(Z), xp.empty((m, n), dtype)
            for t in range(T - 1, -1, -1):
                if gA is not None:
                    da += gA[t]
                be.gru_torch_bwd(Z[t], self.Zh[t], self.b_hn, prev[t], da, self.lengths, t,
                                 dZ[t], dZh[t], dh_prev)
                da = dZh[t] @ W_a
                da += dh_prev
            dZh2 = dZh.reshape(T * m, -1)
            dW_a = dZh2.T @ prev.reshape(T * m, n)
            self.db_hn = dZh2[:, 2 * n:].sum(axis=0)
        dZ2 = dZ.reshape(T * m, -1)
        dW_x = dZ2.T @ self.xt.reshape(T * m, n_x)
        db = dZ2.sum(axis=0)
        needs = self.needs_grad
        dx = None
        if needs[0]:
            dx = self._batch_first((dZ2 @ self.W_x).reshape(T, m, n_x))
        grads = [dx, da]
        if self.kind == "lstm":
            grads.append(self.dc0)
        grads += [dW_x, dW_a, db]
        if self.kind == "gru-pytorch":
            grads.append(self.db_hn)
        return tuple(grads)


def recurrent_sequence(kind: str, x: Tensor, state, weights, lengths, reverse: bool = False):
    """Run one recurrent layer over x (m, T, n_x); see the module docstring.

    state: ``a0`` Tensor, or ``(a0, c0)`` for the LSTM; weights: ``(W_x, W_a, b)`` plus
    ``b_hn`` for ``gru-pytorch``; lengths: (m,) int64 device array (every row T for full
    sequences). Returns the Function's output Tensors.
    """
    states = tuple(state) if kind == "lstm" else (state,)
    return RecurrentSequence(kind, lengths, reverse)(x, *states, *weights)
