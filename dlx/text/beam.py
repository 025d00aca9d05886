"""Decoding a sequence model: greedy, beam search with length normalisation, and the
course's error analysis of beam search. All batched on the device.

A model is seen through one function ``step(tokens, state) -> (log_probs, state)``:
tokens (N,) the previous output ids, log_probs (N, V) the log P(y<t> | y<1..t-1>, x), and
``state`` anything made of arrays/Tensors whose first axis is N (a tuple, NamedTuple,
list or dict of them), which beam search reorders as beams are chosen.

Beam search keeps, for every sample, the ``beam_width`` prefixes of highest sum of
log P; a prefix that emitted ``eos`` stays finished (it may only repeat ``eos`` at no cost).
At the end the winner maximises the length-normalised objective

    (1 / T_y^alpha) * sum_{t=1}^{T_y} log P(y<t> | x, y<1..t-1>)

(alpha = 0.7 by default; alpha = 0 is the plain sum, 1 the mean), with T_y counting the
tokens up to and including ``eos``. ``beam_width=1`` is greedy decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlx import backends
from dlx.core import Tensor, no_grad
from dlx.errors import ConfigError


@dataclass
class Decoded:
    tokens: object      # (m, max_len) ids, eos then eos-padding after the end
    lengths: object     # (m,) T_y (tokens up to and including eos; max_len if none)
    log_prob: object    # (m,) sum of log P over those tokens
    score: object       # (m,) the normalised objective


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def select_state(state, index):
    """``state`` with every array's first axis gathered by ``index`` (beam reordering)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return Tensor(state.data[index])
    if isinstance(state, dict):
        return {k: select_state(v, index) for k, v in state.items()}
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return type(state)(*[select_state(v, index) for v in state])
    if isinstance(state, (tuple, list)):
        return type(state)(select_state(v, index) for v in state)
    return state[index]


def normalised_score(log_prob, lengths, alpha: float):
    """(1 / T_y^alpha) sum log P."""
    return log_prob / lengths.astype(log_prob.dtype) ** alpha


def beam_search(step, state, batch_size: int, bos: int, eos: int, beam_width: int = 3,
                max_len: int = 20, alpha: float = 0.7) -> Decoded:
    """Best sequence per sample by beam search (see the module docstring)."""
    if beam_width < 1 or max_len < 1:
        raise ConfigError(f"beam_search: beam_width and max_len must be >= 1, got "
                          f"{beam_width}, {max_len}")
    xp = backends.current().xp
    m, B = batch_size, beam_width
    rows = xp.arange(m)[:, None]
    # every sample starts with B copies of its state; only beam 0 is alive at first
    state = select_state(state, xp.repeat(xp.arange(m), B))
    sums = xp.full((m, B), -xp.inf)
    sums[:, 0] = 0.0
    finished = xp.zeros((m, B), dtype=bool)
    lengths = xp.zeros((m, B), dtype=xp.int64)
    tokens = xp.full((m, B, max_len), eos, dtype=xp.int64)
    last = xp.full((m * B,), bos, dtype=xp.int64)
    with no_grad():
        for t in range(max_len):
            log_probs, state = step(last, state)
            log_probs = _data(log_probs).reshape(m, B, -1).astype(xp.float64)
            V = log_probs.shape[2]
            # a finished prefix may only add eos, at no cost
            done_row = xp.full((V,), -xp.inf)
            done_row[eos] = 0.0
            log_probs = xp.where(finished[:, :, None], done_row, log_probs)
            candidates = (sums[:, :, None] + log_probs).reshape(m, B * V)
            best = xp.argsort(-candidates, axis=1, kind="stable")[:, :B]
            origin, token = best // V, best % V
            sums = candidates[rows, best]
            tokens = tokens[rows, origin]
            tokens[:, :, t] = token
            was_finished = finished[rows, origin]
            lengths = lengths[rows, origin] + (~was_finished)
            finished = was_finished | (token == eos)
            state = select_state(state, (rows * B + origin).reshape(-1))
            last = token.reshape(-1)
            if bool(finished.all()):
                break
    scores = normalised_score(sums, xp.maximum(lengths, 1), alpha)
    scores = xp.where(xp.isfinite(sums), scores, -xp.inf)
    winner = xp.argmax(scores, axis=1)
    r = xp.arange(m)
    return Decoded(tokens[r, winner], lengths[r, winner], sums[r, winner], scores[r, winner])


def greedy_decode(step, state, batch_size: int, bos: int, eos: int, max_len: int = 20,
                  alpha: float = 0.7) -> Decoded:
    """The most probable token at every step (argmax), until eos or ``max_len``."""
    xp = backends.current().xp
    m = batch_size
    tokens = xp.full((m, max_len), eos, dtype=xp.int64)
    sums = xp.zeros(m)
    lengths = xp.zeros(m, dtype=xp.int64)
    finished = xp.zeros(m, dtype=bool)
    last = xp.full((m,), bos, dtype=xp.int64)
    r = xp.arange(m)
    with no_grad():
        for t in range(max_len):
            log_probs, state = step(last, state)
            log_probs = _data(log_probs).astype(xp.float64)
            token = xp.argmax(log_probs, axis=1)
            token = xp.where(finished, eos, token)
            sums = sums + xp.where(finished, 0.0, log_probs[r, token])
            lengths = lengths + (~finished)
            tokens[:, t] = token
            finished = finished | (token == eos)
            last = token
            if bool(finished.all()):
                break
    return Decoded(tokens, lengths, sums, normalised_score(sums, xp.maximum(lengths, 1), alpha))


def sequence_log_prob(step, state, targets, bos: int, eos: int):
    """(sum of log P(y<t> | x, y<1..t-1>) up to and including the first eos, T_y) for given
    ``targets`` (m, T) -- the model's probability of a known translation y*."""
    xp = backends.current().xp
    targets = _data(targets)
    m, T = targets.shape
    r = xp.arange(m)
    sums, lengths = xp.zeros(m), xp.zeros(m, dtype=xp.int64)
    alive = xp.ones(m, dtype=bool)
    last = xp.full((m,), bos, dtype=xp.int64)
    with no_grad():
        for t in range(T):
            log_probs, state = step(last, state)
            log_probs = _data(log_probs).astype(xp.float64)
            sums = sums + xp.where(alive, log_probs[r, targets[:, t]], 0.0)
            lengths = lengths + alive
            alive = alive & (targets[:, t] != eos)
            last = targets[:, t]
    return sums, lengths


def beam_error_analysis(step, state, targets, decoded: Decoded, bos: int, eos: int,
                        alpha: float = 0.7) -> dict:
    """The course's error analysis: for every sample whose output y^ differs from the
    reference y*, blame the search when the model prefers y* (score(y*) > score(y^): beam
    search failed to find it) and the model otherwise (score(y*) <= score(y^)).
    Scores are the normalised objective the search maximises."""
    xp = backends.current().xp
    targets = _data(targets)
    T = targets.shape[1]
    out = decoded.tokens[:, :T]
    # compare up to each reference's eos
    after_eos = xp.cumsum(targets == eos, axis=1) - (targets == eos) > 0
    wrong = ((out != targets) & ~after_eos).any(axis=1)
    sums, lengths = sequence_log_prob(step, state, targets, bos, eos)
    reference = normalised_score(sums, lengths, alpha)
    search = wrong & (reference > decoded.score)
    n_errors, n_search = int(wrong.sum()), int(search.sum())
    return {"errors": n_errors, "search_errors": n_search, "model_errors": n_errors - n_search,
            "search_fraction": n_search / n_errors if n_errors else 0.0,
            "model_fraction": (n_errors - n_search) / n_errors if n_errors else 0.0,
            "search_error_mask": backends.current().to_host(search)}
