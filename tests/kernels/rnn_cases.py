"""Inputs and a runner for the recurrent-cell primitives (kernels/rnn_cells.cu and its NumPy
twin), shared by the emulation parity tests, the GPU tests and the sanitised run.

:func:`rnn_outputs` runs all ten primitives once on host inputs and returns every output as
a host array, so two backends can be compared key by key.
"""

from __future__ import annotations

import numpy as np

#: (m, n, lengths, t): odd sizes, rows finished / running / empty, t at and past ends
RNN_CASES = {
    "one-element": (1, 1, [1], 0),
    "all-active": (5, 7, [9, 9, 9, 9, 9], 3),
    "mixed-lengths": (6, 5, [0, 4, 2, 7, 3, 1], 2),
    "all-finished": (3, 4, [1, 0, 2], 2),
    "not-block-multiple": (37, 13, None, 4),
}


def rnn_inputs(case, dtype, seed=0) -> dict[str, np.ndarray]:
    m, n, lengths, t = case
    rng = np.random.default_rng(seed)
    if lengths is None:
        lengths = rng.integers(0, 2 * t + 2, m)

    def r(*shape, scale=1.5):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    return dict(m=m, n=n, t=t, lengths=np.asarray(lengths, np.int64), z1=r(m, n), z3=r(m, 3 * n),
                z4=r(m, 4 * n), zh=r(m, 3 * n), b_hn=r(n), a=r(m, n), c=r(m, n), c2=r(m, n),
                g=r(m, n), g2=r(m, n), dz3=r(m, 3 * n))


def rnn_outputs(be, inp) -> dict[str, np.ndarray]:
    """All ten primitives on ``be``; outputs (including in-place ones) as host arrays."""
    m, n, t = inp["m"], inp["n"], inp["t"]
    d = {k: be.asarray(v) for k, v in inp.items() if isinstance(v, np.ndarray)}
    xp, dtype = be.xp, d["z1"].dtype

    def empty(width=1):
        return xp.empty((m, width * n), dtype=dtype)

    out = {}
    for relu in (0, 1):
        a = empty()
        be.rnn_fwd(d["z1"], d["a"], d["lengths"], t, relu, a)
        dz, da_pass = empty(), empty()
        be.rnn_bwd(d["z1"], d["g"], d["lengths"], t, relu, dz, da_pass)
        out.update({f"rnn{relu}_a": a, f"rnn{relu}_dz": dz, f"rnn{relu}_da_pass": da_pass})
    a, c = empty(), empty()
    be.lstm_fwd(d["z4"], d["a"], d["c"], d["lengths"], t, a, c)
    dz, dc_prev, da_pass = empty(4), empty(), empty()
    be.lstm_bwd(d["z4"], d["c"], d["c2"], d["g"], d["g2"], d["lengths"], t, dz, dc_prev, da_pass)
    out.update(lstm_a=a, lstm_c=c, lstm_dz=dz, lstm_dc_prev=dc_prev, lstm_da_pass=da_pass)
    rc, c = empty(), empty()
    be.gru_reset_fwd(d["z3"], d["c"], rc)
    be.gru_state_fwd(d["z3"], d["c"], d["lengths"], t, c)
    dz, dc_prev = empty(3), empty()
    be.gru_state_bwd(d["z3"], d["c"], d["g"], d["lengths"], t, dz, dc_prev)
    out.update(gru_rc=rc, gru_c=c, gru_state_dz=dz.copy(), gru_state_dc_prev=dc_prev.copy())
    be.gru_reset_bwd(d["z3"], d["c"], d["g2"], dz, dc_prev)  # in place
    out.update(gru_reset_dz=dz, gru_reset_dc_prev=dc_prev)
    h = empty()
    be.gru_torch_fwd(d["z3"], d["zh"], d["b_hn"], d["a"], d["lengths"], t, h)
    dzx, dzh, dh_prev = empty(3), empty(3), empty()
    be.gru_torch_bwd(d["z3"], d["zh"], d["b_hn"], d["a"], d["g"], d["lengths"], t, dzx, dzh,
                     dh_prev)
    out.update(torch_h=h, torch_dzx=dzx, torch_dzh=dzh, torch_dh_prev=dh_prev)
    return {k: be.to_host(v) for k, v in out.items()}


#: relative tolerance per dtype, judged against the largest magnitude of each output (the
#: gate derivatives, 1 - tanh^2 and sigma (1 - sigma), cancel near saturation)
RNN_RTOL = {np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-13}


def assert_rnn_outputs_match(actual: dict, expected: dict, what: str = "") -> None:
    assert actual.keys() == expected.keys()
    for key, ref in expected.items():
        got = actual[key]
        assert got.shape == ref.shape and got.dtype == ref.dtype, (what, key)
        tol = RNN_RTOL[ref.dtype] * max(1.0, float(np.abs(ref).max(initial=0)))
        np.testing.assert_allclose(got, ref, rtol=0, atol=tol, err_msg=f"{what} {key}")
