"""Vectorised NumPy twin of ``kernels/rnn_cells.cu``: the pointwise part of one recurrent step.

Contract (identical on every backend; :mod:`dlx.backends.rnn_cells_launch` launches the
kernels with the same arguments). A recurrent layer computes the pre-activations ``z`` of
all gates with GEMMs and hands them, row-major ``(m, G*n)`` with gate blocks of width n,
to these primitives, which apply every non-linearity and the state update at once.
They write into the caller's C-contiguous output arrays (no per-step allocation).

Masking: row i is *active* at step t when ``t < lengths[i]``. An inactive row keeps its
state (``a = a_prev``, ``c = c_prev``) and in backward gets ``dz = 0`` while the incoming
state gradient passes through unchanged (``da_pass = da``, ``dc_prev = dc``); active rows
have ``da_pass = 0``.

Notation (the course's): sigma = logistic sigmoid, * = element-wise product.

* ``rnn_fwd(z, a_prev, lengths, t, relu, a)``: a = g(z), g = tanh (or ReLU).
* ``rnn_bwd(z, da, lengths, t, relu, dz, da_pass)``: dz = da * g'(z), g' from z.
* ``lstm_fwd(z, a_prev, c_prev, lengths, t, a, c)``; z blocks [f, u, c~, o]:
  Gf = sigma(z_f), Gu = sigma(z_u), c~ = tanh(z_c), Go = sigma(z_o),
  c = Gf * c_prev + Gu * c~,  a = Go * tanh(c).
* ``lstm_bwd(z, c_prev, c, da, dc, lengths, t, dz, dc_prev, da_pass)``: gates recomputed from
  z; dc_tot = dc + da * Go * (1 - tanh(c)^2); dz_o = da * tanh(c) * Go (1 - Go);
  dz_f = dc_tot * c_prev * Gf (1 - Gf); dz_u = dc_tot * c~ * Gu (1 - Gu);
  dz_c = dc_tot * Gu * (1 - c~^2); dc_prev = dc_tot * Gf.
* The course's GRU, z blocks [u, r, c~] (two launches per step, because Gr * c_prev must
  exist before the W_c product):
  ``gru_reset_fwd(z, c_prev, rc)``: rc = sigma(z_r) * c_prev (any number of rows, no mask);
  ``gru_state_fwd(z, c_prev, lengths, t, c)``: c = Gu * tanh(z_c) + (1 - Gu) * c_prev;
  ``gru_state_bwd(z, c_prev, dc, lengths, t, dz, dc_prev)``: dz_u = dc * (c~ - c_prev) *
  Gu (1 - Gu), dz_c = dc * Gu * (1 - c~^2), dz_r = 0 (filled next), dc_prev = dc * (1 - Gu);
  ``gru_reset_bwd(z, c_prev, drc, dz, dc_prev)`` (in place): dz_r = drc * c_prev * Gr (1 - Gr),
  dc_prev += drc * Gr, where drc = dz_c @ W_c is the gradient of rc.
* PyTorch's GRU (reset after the product, update gate kept as PyTorch's z), zx = x W_x^T + b,
  zh = h_prev W_a^T, blocks [z, r, n]: ``gru_torch_fwd(zx, zh, b_hn, h_prev, lengths, t, h)``:
  Gz = sigma(zx_z + zh_z), Gr = sigma(zx_r + zh_r), n = tanh(zx_n + Gr * (zh_n + b_hn)),
  h = (1 - Gz) * n + Gz * h_prev.
  ``gru_torch_bwd(zx, zh, b_hn, h_prev, dh, lengths, t, dzx, dzh, dh_prev)``:
  dn = dh (1 - Gz)(1 - n^2); dzx_n = dn; dzh_n = dn * Gr; dz_r = dn (zh_n + b_hn) Gr (1 - Gr);
  dz_z = dh (h_prev - n) Gz (1 - Gz) (in both dzx and dzh); dh_prev = dh * Gz.
"""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    """1 / (1 + exp(-z)), one new array (exp overflows to inf for very negative z: 0)."""
    g = np.negative(z)
    with np.errstate(over="ignore"):
        np.exp(g, out=g)
    g += 1
    return np.reciprocal(g, out=g)


def _blocks(z, n: int, count: int):
    return [z[:, k * n:(k + 1) * n] for k in range(count)]


def _keep_inactive(out, previous, lengths, t) -> None:
    """Rows past their sequence's end keep ``previous``."""
    inactive = lengths <= t
    if inactive.any():
        out[inactive] = previous[inactive]


def _mask_backward(dz, passthrough, grad, lengths, t) -> None:
    """Inactive rows: dz = 0 and passthrough = grad; active rows: passthrough = 0."""
    inactive = lengths <= t
    passthrough.fill(0)
    if inactive.any():
        dz[inactive] = 0
        passthrough[inactive] = grad[inactive]


def _mask_state_backward(dz, dprev, grad, lengths, t) -> None:
    """Inactive rows: dz = 0 and the state gradient passes through unchanged."""
    inactive = lengths <= t
    if inactive.any():
        dz[inactive] = 0
        dprev[inactive] = grad[inactive]


# -- plain RNN ------------------------------------------------------------------------------
def rnn_fwd(z, a_prev, lengths, t, relu, a):
    if relu:
        np.maximum(z, 0, out=a)
    else:
        np.tanh(z, out=a)
    _keep_inactive(a, a_prev, lengths, t)


def rnn_bwd(z, da, lengths, t, relu, dz, da_pass):
    if relu:
        np.multiply(da, z > 0, out=dz)
    else:
        g = np.tanh(z)
        np.multiply(da, 1 - g * g, out=dz)
    _mask_backward(dz, da_pass, da, lengths, t)


# -- LSTM -------------------------------------------------------------------------------------
def lstm_fwd(z, a_prev, c_prev, lengths, t, a, c):
    n = c.shape[1]
    g = _sigmoid(z)  # all four blocks at once; the c~ block is replaced by tanh below
    gf, gu, gc, go = _blocks(g, n, 4)
    np.tanh(z[:, 2 * n:3 * n], out=gc)
    np.multiply(gf, c_prev, out=c)
    gu *= gc
    c += gu
    np.tanh(c, out=a)
    a *= go
    _keep_inactive(c, c_prev, lengths, t)
    _keep_inactive(a, a_prev, lengths, t)


def lstm_bwd(z, c_prev, c, da, dc, lengths, t, dz, dc_prev, da_pass):
    n = c.shape[1]
    g = _sigmoid(z)
    gf, gu, gc, go = _blocks(g, n, 4)
    np.tanh(z[:, 2 * n:3 * n], out=gc)
    dsig = 1 - g
    dsig *= g  # sigma' = sigma (1 - sigma) per gate; the c~ block is unused
    tc = np.tanh(c)
    dzf, dzu, dzc, dzo = _blocks(dz, n, 4)
    dc_tot = 1 - tc * tc
    dc_tot *= go
    dc_tot *= da
    dc_tot += dc
    np.multiply(da, tc, out=dzo)
    dzo *= dsig[:, 3 * n:]
    np.multiply(dc_tot, c_prev, out=dzf)
    dzf *= dsig[:, :n]
    np.multiply(dc_tot, gc, out=dzu)
    dzu *= dsig[:, n:2 * n]
    np.multiply(dc_tot, gu, out=dzc)
    dzc *= 1 - gc * gc
    np.multiply(dc_tot, gf, out=dc_prev)
    _mask_state_backward(dz, dc_prev, dc, lengths, t)
    _mask_backward(dz, da_pass, da, lengths, t)


# -- the course's GRU -------------------------------------------------------------------------
def gru_reset_fwd(z, c_prev, rc):
    n = c_prev.shape[1]
    np.multiply(_sigmoid(z[:, n:2 * n]), c_prev, out=rc)


def gru_state_fwd(z, c_prev, lengths, t, c):
    n = c_prev.shape[1]
    zu, _, zc = _blocks(z, n, 3)
    gu = _sigmoid(zu)
    np.multiply(gu, np.tanh(zc), out=c)
    c += (1 - gu) * c_prev
    _keep_inactive(c, c_prev, lengths, t)


def gru_state_bwd(z, c_prev, dc, lengths, t, dz, dc_prev):
    n = c_prev.shape[1]
    zu, _, zc = _blocks(z, n, 3)
    gu, gc = _sigmoid(zu), np.tanh(zc)
    dzu, dzr, dzc = _blocks(dz, n, 3)
    np.multiply(dc * (gc - c_prev), gu * (1 - gu), out=dzu)
    np.multiply(dc * gu, 1 - gc * gc, out=dzc)
    dzr.fill(0)
    np.multiply(dc, 1 - gu, out=dc_prev)
    _mask_state_backward(dz, dc_prev, dc, lengths, t)


def gru_reset_bwd(z, c_prev, drc, dz, dc_prev):
    n = c_prev.shape[1]
    gr = _sigmoid(z[:, n:2 * n])
    np.multiply(drc * c_prev, gr * (1 - gr), out=dz[:, n:2 * n])
    dc_prev += drc * gr


# -- PyTorch's GRU ----------------------------------------------------------------------------
def _gru_torch_gates(zx, zh, b_hn, n):
    (xz, xr, xn), (hz, hr, hn) = _blocks(zx, n, 3), _blocks(zh, n, 3)
    gz, gr = _sigmoid(xz + hz), _sigmoid(xr + hr)
    hn_b = hn + b_hn
    return gz, gr, hn_b, np.tanh(xn + gr * hn_b)


def gru_torch_fwd(zx, zh, b_hn, h_prev, lengths, t, h):
    gz, _, _, g = _gru_torch_gates(zx, zh, b_hn, h_prev.shape[1])
    np.multiply(1 - gz, g, out=h)
    h += gz * h_prev
    _keep_inactive(h, h_prev, lengths, t)


def gru_torch_bwd(zx, zh, b_hn, h_prev, dh, lengths, t, dzx, dzh, dh_prev):
    n = h_prev.shape[1]
    gz, gr, hn_b, g = _gru_torch_gates(zx, zh, b_hn, n)
    dn = dh * (1 - gz) * (1 - g * g)
    (dxz, dxr, dxn), (dhz, dhr, dhn) = _blocks(dzx, n, 3), _blocks(dzh, n, 3)
    np.multiply(dh * (h_prev - g), gz * (1 - gz), out=dxz)
    np.multiply(dn * hn_b, gr * (1 - gr), out=dxr)
    dxn[...] = dn
    dhz[...] = dxz
    dhr[...] = dxr
    np.multiply(dn, gr, out=dhn)
    np.multiply(dh, gz, out=dh_prev)
    _mask_state_backward(dzx, dh_prev, dh, lengths, t)
    inactive = lengths <= t
    if inactive.any():
        dzh[inactive] = 0
