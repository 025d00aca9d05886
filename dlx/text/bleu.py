"""BLEU (Papineni et al., 2002), sentence and corpus level, with explicit smoothing.

For n = 1..N (N = 4): the clipped ("modified") precision
    p_n = sum_hyps sum_g min(count_hyp(g), max_ref count_ref(g)) / number of hypothesis n-grams
over n-grams g; the brevity penalty with c the hypothesis length and r the reference length
closest to c (the shorter one on ties), summed over the corpus:
    BP = 1 if c > r else exp(1 - r / c)   (0 when c = 0)
and BLEU = BP * exp((1/N) sum_n log p_n), a number in [0, 1] (sacrebleu reports 100x that).
Corpus BLEU sums the counts over all sentences before dividing (it is not a mean of
sentence scores).

Smoothing for p_n with no matching n-gram (Chen and Cherry, 2014) -- ``smoothing=``:
* ``"exp"`` (dlx's default, as sacrebleu's): the k-th zero precision becomes 1 / (2^k total_n)
  (NIST's mteval-v13a method 3).
* ``"floor"``: a zero precision becomes ``smooth_value / total_n`` (default 0.1; method 1).
* ``"add-k"``: for n >= 2, p_n = (matches + k) / (total + k) (default k = 1; method 2).
* ``"none"``: a zero precision makes BLEU 0 (NLTK's default ``method0``, which also warns).
Whatever the smoothing, a hypothesis without a single matching unigram scores 0, as in
sacrebleu. ``effective_order=True`` (the default for sentence BLEU, as in sacrebleu) averages
only over the orders the hypothesis is long enough to have.
Tokenisation is the caller's: pass token lists (``dlx.text.simple_tokenize`` is one choice).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from dlx.errors import ConfigError

SMOOTH_DEFAULTS = {"none": None, "exp": None, "floor": 0.1, "add-k": 1}


@dataclass
class BleuScore:
    score: float                 # BLEU in [0, 1]
    precisions: list[float]      # p_n after smoothing, n = 1..N
    brevity_penalty: float
    hyp_len: int                 # c
    ref_len: int                 # r


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _closest_length(hyp_len, ref_lens):
    return min(ref_lens, key=lambda r: (abs(hyp_len - r), r))


def bleu_statistics(hypothesis, references, max_n: int = 4):
    """(matches[n], totals[n], c, r) of one hypothesis (token list) against its references."""
    if not references:
        raise ConfigError("bleu: every hypothesis needs at least one reference")
    matches, totals = [0] * max_n, [0] * max_n
    for n in range(1, max_n + 1):
        hyp = _ngrams(hypothesis, n)
        best = Counter()
        for ref in references:
            best |= _ngrams(ref, n)  # per-n-gram maximum over the references
        matches[n - 1] = sum(min(c, best[g]) for g, c in hyp.items())
        totals[n - 1] = max(0, len(hypothesis) - n + 1)
    return matches, totals, len(hypothesis), _closest_length(len(hypothesis),
                                                              [len(r) for r in references])


def bleu_from_statistics(matches, totals, c, r, smoothing: str = "exp",
                         smooth_value: float | None = None,
                         effective_order: bool = False) -> BleuScore:
    """BLEU from summed statistics (see the module docstring for the smoothing choices)."""
    if smoothing not in SMOOTH_DEFAULTS:
        raise ConfigError(f"bleu: smoothing must be one of {sorted(SMOOTH_DEFAULTS)}, "
                          f"got {smoothing!r}")
    k = SMOOTH_DEFAULTS[smoothing] if smooth_value is None else smooth_value
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c > 0 else 0.0)
    max_n = len(matches)
    precisions = [0.0] * max_n
    if not any(matches):
        return BleuScore(0.0, precisions, bp, c, r)
    order, zeros = max_n, 0
    for n in range(max_n):
        match, total = matches[n], totals[n]
        if smoothing == "add-k" and n > 0:
            match, total = match + k, total + k
        if total == 0:
            break
        if effective_order:
            order = n + 1
        if match > 0:
            precisions[n] = match / total
        elif smoothing == "exp":
            zeros += 1
            precisions[n] = 1.0 / (2 ** zeros * total)
        elif smoothing == "floor":
            precisions[n] = k / total
    if any(p == 0 for p in precisions[:order]):
        return BleuScore(0.0, precisions, bp, c, r)
    score = bp * math.exp(sum(math.log(p) for p in precisions[:order]) / order)
    return BleuScore(score, precisions, bp, c, r)


def sentence_bleu(hypothesis, references, max_n: int = 4, smoothing: str = "exp",
                  smooth_value: float | None = None, effective_order: bool = True) -> BleuScore:
    """BLEU of one hypothesis (token list) against a list of reference token lists."""
    return bleu_from_statistics(*bleu_statistics(hypothesis, references, max_n), smoothing,
                                smooth_value, effective_order)


def corpus_bleu(hypotheses, references, max_n: int = 4, smoothing: str = "exp",
                smooth_value: float | None = None, effective_order: bool = False) -> BleuScore:
    """Corpus BLEU: ``references[i]`` is the list of reference token lists of
    ``hypotheses[i]``; n-gram counts and lengths are summed before the ratio."""
    if len(hypotheses) != len(references):
        raise ConfigError(f"corpus_bleu: {len(hypotheses)} hypotheses but "
                          f"{len(references)} reference lists")
    matches, totals, c, r = [0] * max_n, [0] * max_n, 0, 0
    for hyp, refs in zip(hypotheses, references):
        m, t, hc, rc = bleu_statistics(hyp, refs, max_n)
        matches = [a + b for a, b in zip(matches, m)]
        totals = [a + b for a, b in zip(totals, t)]
        c, r = c + hc, r + rc
    return bleu_from_statistics(matches, totals, c, r, smoothing, smooth_value,
                                effective_order)
