"""Launchers of ``kernels/rnn_cells.cu`` -- the recurrent-cell primitives of every kernel backend.

Mixed into :class:`~dlx.backends.kernel_backend.KernelBackend`, so the CuPy backend (GPU) and
the emulated backend (the same kernels on the CPU) share every line. Arguments and formulas
are those of the NumPy twin, :mod:`dlx.backends.rnn_cells_numpy`. As there, the caller owns
the outputs: they must be C-contiguous arrays of the input's dtype and shape (a copy would
lose the kernel's writes, so they are checked, never converted); inputs are made C-contiguous
once. One thread per state element (m * n), grid-stride, scalars as ``numpy.int64``.
"""

from __future__ import annotations

import numpy as np

from dlx.errors import DtypeError, ShapeError

MODULE = "rnn_cells"


class RnnCellKernels:
    """The ten recurrent-cell primitives as kernel launches (needs KernelBackend's plumbing)."""

    def _rnn_inputs(self, op: str, z, gates: int, state, lengths=None):
        """(z as (m, gates*n), m, n, dtype, lengths as int64 (m,)) after checking shapes."""
        z = self._float_input(op, "z", z, 2)
        m, width = z.shape
        n = np.int64(state.shape[1]) if state.ndim == 2 else None
        if n is None or state.shape[0] != m or width != gates * n:
            raise ShapeError(f"{op}: z must be (m, {gates}*n) for a state of shape (m, n); got "
                             f"z {z.shape} and state {state.shape}")
        if lengths is not None:
            lengths = self._matching(op, "lengths", lengths, (m,), np.int64)
        return z, np.int64(m), n, z.dtype, lengths

    def _state_in(self, op: str, what: str, a, m, n, dtype):
        return self._matching(op, what, a, (int(m), int(n)), dtype)

    def _out(self, op: str, what: str, a, shape, dtype):
        """A caller-owned output: checked to be writable in place by the kernel."""
        if not isinstance(a, self.xp.ndarray):
            raise DtypeError(f"{op}: output {what} must be a {self.xp.__name__} array, got "
                             f"{type(a).__name__}")
        if a.dtype != dtype or tuple(a.shape) != tuple(int(s) for s in shape):
            raise ShapeError(f"{op}: output {what} must be {np.dtype(dtype).name} of shape "
                             f"{tuple(int(s) for s in shape)}, got {a.dtype} {a.shape}")
        if not a.flags.c_contiguous:
            raise ShapeError(f"{op}: output {what} must be C-contiguous")
        return a

    def _go(self, kernel: str, dtype, m, n, args) -> None:
        self._launch(MODULE, kernel, dtype, int(m) * int(n), args)

    # -- plain RNN ---------------------------------------------------------------------------------
    def rnn_fwd(self, z, a_prev, lengths, t, relu, a):
        op = "rnn_fwd"
        z, m, n, dt, lengths = self._rnn_inputs(op, z, 1, a_prev, lengths)
        a_prev = self._state_in(op, "a_prev", a_prev, m, n, dt)
        a = self._out(op, "a", a, (m, n), dt)
        self._go(op, dt, m, n, (z, a_prev, lengths, a, m, n, np.int64(t), np.int64(relu)))

    def rnn_bwd(self, z, da, lengths, t, relu, dz, da_pass):
        op = "rnn_bwd"
        z, m, n, dt, lengths = self._rnn_inputs(op, z, 1, da, lengths)
        da = self._state_in(op, "da", da, m, n, dt)
        dz = self._out(op, "dz", dz, (m, n), dt)
        da_pass = self._out(op, "da_pass", da_pass, (m, n), dt)
        self._go(op, dt, m, n, (z, da, lengths, dz, da_pass, m, n, np.int64(t), np.int64(relu)))

    # -- LSTM --------------------------------------------------------------------------------------
    def lstm_fwd(self, z, a_prev, c_prev, lengths, t, a, c):
        op = "lstm_fwd"
        z, m, n, dt, lengths = self._rnn_inputs(op, z, 4, c_prev, lengths)
        a_prev = self._state_in(op, "a_prev", a_prev, m, n, dt)
        c_prev = self._state_in(op, "c_prev", c_prev, m, n, dt)
        a, c = self._out(op, "a", a, (m, n), dt), self._out(op, "c", c, (m, n), dt)
        self._go(op, dt, m, n, (z, a_prev, c_prev, lengths, a, c, m, n, np.int64(t)))

    def lstm_bwd(self, z, c_prev, c, da, dc, lengths, t, dz, dc_prev, da_pass):
        op = "lstm_bwd"
        z, m, n, dt, lengths = self._rnn_inputs(op, z, 4, c_prev, lengths)
        c_prev, c, da, dc = (self._state_in(op, w, v, m, n, dt) for w, v in
                             (("c_prev", c_prev), ("c", c), ("da", da), ("dc", dc)))
        dz = self._out(op, "dz", dz, (m, 4 * n), dt)
        dc_prev = self._out(op, "dc_prev", dc_prev, (m, n), dt)
        da_pass = self._out(op, "da_pass", da_pass, (m, n), dt)
        self._go(op, dt, m, n, (z, c_prev, c, da, dc, lengths, dz, dc_prev, da_pass, m, n,
                                np.int64(t)))

    # -- the course's GRU --------------------------------------------------------------------------
    def gru_reset_fwd(self, z, c_prev, rc):
        op = "gru_reset_fwd"
        z, m, n, dt, _ = self._rnn_inputs(op, z, 3, c_prev)
        c_prev = self._state_in(op, "c_prev", c_prev, m, n, dt)
        rc = self._out(op, "rc", rc, (m, n), dt)
        self._go(op, dt, m, n, (z, c_prev, rc, m, n))

    def gru_state_fwd(self, z, c_prev, lengths, t, c):
        op = "gru_state_fwd"
        z, m, n, dt, lengths = self._rnn_inputs(op, z, 3, c_prev, lengths)
        c_prev = self._state_in(op, "c_prev", c_prev, m, n, dt)
        c = self._out(op, "c", c, (m, n), dt)
        self._go(op, dt, m, n, (z, c_prev, lengths, c, m, n, np.int64(t)))

    def gru_state_bwd(self, z, c_prev, dc, lengths, t, dz, dc_prev):
        op = "gru_state_bwd"
        z, m, n, dt, lengths = self._rnn_inputs(op, z, 3, c_prev, lengths)
        c_prev = self._state_in(op, "c_prev", c_prev, m, n, dt)
        dc = self._state_in(op, "dc", dc, m, n, dt)
        dz = self._out(op, "dz", dz, (m, 3 * n), dt)
        dc_prev = self._out(op, "dc_prev", dc_prev, (m, n), dt)
        self._go(op, dt, m, n, (z, c_prev, dc, lengths, dz, dc_prev, m, n, np.int64(t)))

    def gru_reset_bwd(self, z, c_prev, drc, dz, dc_prev):
        op = "gru_reset_bwd"
        z, m, n, dt, _ = self._rnn_inputs(op, z, 3, c_prev)
        c_prev = self._state_in(op, "c_prev", c_prev, m, n, dt)
        drc = self._state_in(op, "drc", drc, m, n, dt)
        dz = self._out(op, "dz", dz, (m, 3 * n), dt)
        dc_prev = self._out(op, "dc_prev", dc_prev, (m, n), dt)
        self._go(op, dt, m, n, (z, c_prev, drc, dz, dc_prev, m, n))

    # -- PyTorch's GRU -----------------------------------------------------------------------------
    def gru_torch_fwd(self, zx, zh, b_hn, h_prev, lengths, t, h):
        op = "gru_torch_fwd"
        zx, m, n, dt, lengths = self._rnn_inputs(op, zx, 3, h_prev, lengths)
        zh = self._matching(op, "zh", zh, zx.shape, dt)
        b_hn = self._matching(op, "b_hn", b_hn, (int(n),), dt)
        h_prev = self._state_in(op, "h_prev", h_prev, m, n, dt)
        h = self._out(op, "h", h, (m, n), dt)
        self._go(op, dt, m, n, (zx, zh, b_hn, h_prev, lengths, h, m, n, np.int64(t)))

    def gru_torch_bwd(self, zx, zh, b_hn, h_prev, dh, lengths, t, dzx, dzh, dh_prev):
        op = "gru_torch_bwd"
        zx, m, n, dt, lengths = self._rnn_inputs(op, zx, 3, h_prev, lengths)
        zh = self._matching(op, "zh", zh, zx.shape, dt)
        b_hn = self._matching(op, "b_hn", b_hn, (int(n),), dt)
        h_prev = self._state_in(op, "h_prev", h_prev, m, n, dt)
        dh = self._state_in(op, "dh", dh, m, n, dt)
        dzx = self._out(op, "dzx", dzx, (m, 3 * n), dt)
        dzh = self._out(op, "dzh", dzh, (m, 3 * n), dt)
        dh_prev = self._out(op, "dh_prev", dh_prev, (m, n), dt)
        self._go(op, dt, m, n, (zx, zh, b_hn, h_prev, dh, lengths, dzx, dzh, dh_prev, m, n,
                                np.int64(t)))
