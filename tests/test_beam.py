"""Greedy and beam search on a known (bigram) model: B = 1 is greedy, wider beams never
score worse here, exhaustive search agrees, and the error analysis blames a planted search
error on the search."""

import itertools

import numpy as np
import pytest

from dlx.errors import ConfigError
from dlx.text.beam import (beam_error_analysis, beam_search, greedy_decode, normalised_score,
                           select_state, sequence_log_prob)

BOS, EOS = 0, 1


def bigram_step(table, backend):
    """A model whose next-token distribution depends only on the previous token; the state
    counts steps (checks that beam search reorders it)."""
    with np.errstate(divide="ignore"):
        log_table = backend.asarray(np.log(table))

    def step(tokens, state):
        return log_table[tokens], (state[0] + 1,)
    return step


def random_table(rng, V=6, sharp=2.0):
    logits = rng.normal(size=(V, V)) * sharp
    logits[:, BOS] = -np.inf  # never emit bos
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def run(step, backend, m, **kw):
    state = (backend.asarray(np.zeros(m, dtype=np.int64)),)
    return beam_search(step, state, m, BOS, EOS, **kw)


def test_beam_width_one_equals_greedy(backend, rng):
    for seed in range(5):
        step = bigram_step(random_table(np.random.default_rng(seed)), backend)
        m = 4
        state = (backend.asarray(np.zeros(m, dtype=np.int64)),)
        g = greedy_decode(step, state, m, BOS, EOS, max_len=7)
        b = run(step, backend, m, beam_width=1, max_len=7)
        np.testing.assert_array_equal(backend.to_host(g.tokens), backend.to_host(b.tokens))
        np.testing.assert_allclose(backend.to_host(g.score), backend.to_host(b.score))


def exhaustive_best(table, max_len, alpha):
    V = table.shape[0]
    best = -np.inf
    for T in range(1, max_len + 1):
        for seq in itertools.product(range(1, V), repeat=T):
            if EOS in seq[:-1] or (T < max_len and seq[-1] != EOS):
                continue
            prev, lp = BOS, 0.0
            for tok in seq:
                lp += np.log(table[prev, tok])
                prev = tok
            best = max(best, lp / T ** alpha)
    return best


def test_wider_beams_never_score_worse_and_reach_the_exhaustive_optimum(backend):
    for seed in range(6):
        table = random_table(np.random.default_rng(seed), V=4)
        step = bigram_step(table, backend)
        scores = [float(backend.to_host(run(step, backend, 1, beam_width=B, max_len=4).score)[0])
                  for B in range(1, 11)]
        assert all(b >= a - 1e-12 for a, b in zip(scores, scores[1:])), scores
        # with B >= V^(T-1) nothing is pruned: beam search is exhaustive
        assert scores[-1] == pytest.approx(exhaustive_best(table, 4, 0.7), abs=1e-9)


def planted_table():
    """Greedy takes token 2 (p=.6) but then must go on with poor odds; 3 (p=.4) leads to
    eos with certainty, so the best sequence is [3, eos]."""
    V = 5
    t = np.full((V, V), 1e-9)
    t[BOS, 2], t[BOS, 3] = 0.6, 0.4
    t[2, 4], t[2, EOS] = 0.5, 0.5
    t[4, EOS] = 1.0
    t[3, EOS] = 1.0
    t[EOS, EOS] = 1.0
    return t / t.sum(1, keepdims=True)


def test_error_analysis_blames_a_planted_search_error_on_the_search(backend):
    step = bigram_step(planted_table(), backend)
    wide = run(step, backend, 1, beam_width=5, max_len=4, alpha=0.0)
    assert backend.to_host(wide.tokens)[0, :2].tolist() == [3, EOS]
    narrow = run(step, backend, 1, beam_width=1, max_len=4, alpha=0.0)
    assert backend.to_host(narrow.tokens)[0, 0] == 2
    y_star = backend.asarray(np.array([[3, EOS, EOS, EOS]]))
    state = (backend.asarray(np.zeros(1, dtype=np.int64)),)
    report = beam_error_analysis(step, state, y_star, narrow, BOS, EOS, alpha=0.0)
    assert report["errors"] == 1 and report["search_errors"] == 1
    assert report["search_fraction"] == 1.0
    # a model that prefers the wrong answer is the model's fault, whatever the beam
    wrong_star = backend.asarray(np.array([[4, EOS, EOS, EOS]]))
    report = beam_error_analysis(step, state, wrong_star, wide, BOS, EOS, alpha=0.0)
    assert report["errors"] == 1 and report["model_errors"] == 1


def test_sequence_log_prob_and_normalisation(backend):
    table = planted_table()
    step = bigram_step(table, backend)
    state = (backend.asarray(np.zeros(1, dtype=np.int64)),)
    sums, lengths = sequence_log_prob(step, state, backend.asarray(np.array([[2, 4, EOS]])),
                                      BOS, EOS)
    expected = np.log(table[BOS, 2]) + np.log(table[2, 4]) + np.log(table[4, EOS])
    assert float(backend.to_host(sums)[0]) == pytest.approx(expected)
    assert int(backend.to_host(lengths)[0]) == 3
    score = normalised_score(sums, lengths, 0.7)
    assert float(backend.to_host(score)[0]) == pytest.approx(expected / 3 ** 0.7)


def test_select_state_reorders_nested_states(backend):
    from collections import namedtuple
    S = namedtuple("S", "a c")
    s = {"x": S(backend.asarray(np.arange(3)), backend.asarray(np.arange(3) * 10))}
    out = select_state(s, backend.asarray(np.array([2, 2, 0])))
    assert backend.to_host(out["x"].c).tolist() == [20, 20, 0]


def test_bad_arguments(backend):
    step = bigram_step(planted_table(), backend)
    with pytest.raises(ConfigError, match="beam_width"):
        run(step, backend, 1, beam_width=0)
