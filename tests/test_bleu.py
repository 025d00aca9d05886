"""BLEU against sacrebleu (tokenize='none', same smoothing) to 1e-9, and edge cases."""

import math
import random

import pytest

from dlx.errors import ConfigError
from dlx.text.bleu import corpus_bleu, sentence_bleu

sacrebleu = pytest.importorskip("sacrebleu")

SMOOTHINGS = ["exp", "none", "floor", "add-k"]


def random_pairs(n=200, seed=0):
    rnd = random.Random(seed)
    words = [f"w{i}" for i in range(12)]
    pairs = []
    for _ in range(n):
        ref = [rnd.choice(words) for _ in range(rnd.randint(1, 15))]
        hyp = [w if rnd.random() < 0.6 else rnd.choice(words) for w in ref]
        hyp = hyp[:rnd.randint(0, len(hyp) + 2)] + [rnd.choice(words)
                                                   for _ in range(rnd.randint(0, 3))]
        pairs.append((hyp, [ref]))
    return pairs


def theirs_corpus(pairs, smoothing):
    return sacrebleu.corpus_bleu([" ".join(h) for h, _ in pairs],
                                 [[" ".join(refs[0]) for _, refs in pairs]],
                                 smooth_method=smoothing, tokenize="none").score / 100


def theirs_sentence(hyp, refs, smoothing):
    return sacrebleu.sentence_bleu(" ".join(hyp), [" ".join(r) for r in refs],
                                   smooth_method=smoothing, tokenize="none").score / 100


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
def test_corpus_bleu_equals_sacrebleu_on_200_random_pairs(smoothing):
    pairs = random_pairs()
    ours = corpus_bleu([h for h, _ in pairs], [r for _, r in pairs], smoothing=smoothing)
    assert 0 < ours.score < 1
    assert abs(ours.score - theirs_corpus(pairs, smoothing)) < 1e-9


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
def test_sentence_bleu_equals_sacrebleu_on_every_pair(smoothing):
    for hyp, refs in random_pairs(seed=1):
        ours = sentence_bleu(hyp, refs, smoothing=smoothing).score
        assert abs(ours - theirs_sentence(hyp, refs, smoothing)) < 1e-9, (hyp, refs)


EDGE_CASES = {
    "empty hypothesis": ([], [["the", "cat", "sat"]]),
    "no 4-gram match": ("the cat sat on a mat".split(), ["the cat sat upon the mat".split()]),
    "hypothesis longer than reference": ("the the cat sat on the mat today".split(),
                                         ["the cat sat".split()]),
    "identical": ("a b c d e".split(), ["a b c d e".split()]),
    "shorter than 4 tokens": ("a b".split(), ["a b c".split()]),
    "two references, closest length": ("a b c d".split(), ["a b c".split(), "a b c d e".split()]),
}


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_cases_equal_sacrebleu(case, smoothing):
    hyp, refs = EDGE_CASES[case]
    assert abs(sentence_bleu(hyp, refs, smoothing=smoothing).score
               - theirs_sentence(hyp, refs, smoothing)) < 1e-9
    theirs = sacrebleu.corpus_bleu([" ".join(hyp)], [[" ".join(r)] for r in refs],
                                   smooth_method=smoothing, tokenize="none").score / 100
    assert abs(corpus_bleu([hyp], [refs], smoothing=smoothing).score - theirs) < 1e-9


def test_textbook_values():
    # identical sentences score 1; brevity penalty exp(1 - r/c) when c < r
    assert sentence_bleu("a b c d".split(), ["a b c d".split()]).score == pytest.approx(1.0)
    short = sentence_bleu("a b c d".split(), ["a b c d e f".split()])
    assert short.brevity_penalty == pytest.approx(math.exp(1 - 6 / 4))
    assert short.precisions == [1.0, 1.0, 1.0, 1.0]
    # clipping: "the the the" against "the cat" has p1 = 1/3
    clipped = sentence_bleu("the the the".split(), ["the cat".split()], smoothing="none")
    assert clipped.precisions[0] == pytest.approx(1 / 3)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="smoothing"):
        sentence_bleu(["a"], [["a"]], smoothing="nltk")
    with pytest.raises(ConfigError, match="reference"):
        sentence_bleu(["a"], [])
    with pytest.raises(ConfigError, match="hypotheses"):
        corpus_bleu([["a"]], [])
