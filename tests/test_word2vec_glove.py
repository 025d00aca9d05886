"""word2vec (skip-gram, negative sampling) and GloVe: the formulas against numerical
gradients and hand counts, and both learning topic structure on a small generated corpus."""

import random

import numpy as np
import pytest

from dlx.text import Vocabulary
from dlx.text.glove import GloVeConfig, cooccurrence, glove_loss_and_grads, train_glove, weighting
from dlx.text.windows import EncodedCorpus, window_pairs
from dlx.text.word2vec import (Word2VecConfig, keep_probability, negative_sampling_distribution,
                               sgns_step, train_word2vec)


def numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        g[i] = (plus - minus) / (2 * eps)
    return g


def test_negative_sampling_step_is_sgd_on_the_loss(backend, rng):
    E, U = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    c, o, negs = np.array([0, 1, 2, 0]), np.array([3, 4, 5, 3]), np.array([[1, 2], [0, 5],
                                                                           [3, 3], [4, 1]])

    def loss():
        v = E[c]
        pos = 1 / (1 + np.exp(-(v * U[o]).sum(1)))
        neg = 1 / (1 + np.exp(-np.einsum("bkd,bd->bk", U[negs], v)))
        return -(np.log(pos).sum() + np.log(1 - neg).sum())

    gE, gU = numeric_grad(loss, E), numeric_grad(loss, U)
    E_dev, U_dev = backend.asarray(E.copy()), backend.asarray(U.copy())
    value = sgns_step(E_dev, U_dev, backend.asarray(c), backend.asarray(o), backend.asarray(negs),
                      lr=1.0)
    assert float(value) == pytest.approx(loss(), rel=1e-9)
    rel = np.linalg.norm((E - backend.to_host(E_dev)) - gE) / np.linalg.norm(gE)
    assert rel < 1e-7
    rel = np.linalg.norm((U - backend.to_host(U_dev)) - gU) / np.linalg.norm(gU)
    assert rel < 1e-7


def test_glove_gradients(backend, rng):
    V, d = 5, 3
    Wb, Wcb = rng.normal(size=(V, d + 1)), rng.normal(size=(V, d + 1))
    i, j = np.array([0, 1, 1, 4]), np.array([2, 2, 3, 0])
    logx, fx = rng.normal(size=4), rng.uniform(0.1, 1, size=4)

    def loss():
        diff = (Wb[i, :d] * Wcb[j, :d]).sum(1) + Wb[i, d] + Wcb[j, d] - logx
        return (fx * diff ** 2).sum()

    J, gi, gj = glove_loss_and_grads(*(backend.asarray(a) for a in (Wb, Wcb, i, j, logx, fx)))
    assert float(J) == pytest.approx(loss(), rel=1e-12)
    dense_i = np.zeros_like(Wb)
    np.add.at(dense_i, i, backend.to_host(gi))
    dense_j = np.zeros_like(Wcb)
    np.add.at(dense_j, j, backend.to_host(gj))
    np.testing.assert_allclose(dense_i, numeric_grad(loss, Wb), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dense_j, numeric_grad(loss, Wcb), rtol=1e-6, atol=1e-8)


def test_distributions_and_weighting(backend):
    counts = [0, 10, 100, 1000]
    p = backend.to_host(negative_sampling_distribution(counts))
    expected = np.array(counts, float) ** 0.75
    np.testing.assert_allclose(p, expected / expected.sum())
    keep = backend.to_host(keep_probability(counts, 1e-3))
    f = np.array(counts[1:]) / sum(counts)
    np.testing.assert_allclose(keep[1:], np.minimum(1, (np.sqrt(f / 1e-3) + 1) * 1e-3 / f))
    assert keep[0] == 0
    x = backend.asarray(np.array([1.0, 50.0, 100.0, 400.0]))
    np.testing.assert_allclose(backend.to_host(weighting(x)), [0.01 ** 0.75, 0.5 ** 0.75, 1, 1])


def test_window_pairs_and_cooccurrence_counts(backend):
    sentences = [["a", "b", "c"], ["c", "a"]]
    vocab = Vocabulary.build(sentences, specials=())
    corpus = EncodedCorpus(sentences, vocab)
    c, o, dist = (backend.to_host(a) for a in window_pairs(corpus.ids, corpus.sentence, 2))
    pairs = sorted((vocab.words[x], vocab.words[y], int(d)) for x, y, d in zip(c, o, dist))
    # never across the sentence boundary (c of sentence 0 and c of sentence 1 are 1 apart)
    assert pairs == sorted([("a", "b", 1), ("b", "a", 1), ("b", "c", 1), ("c", "b", 1),
                            ("a", "c", 2), ("c", "a", 2), ("c", "a", 1), ("a", "c", 1)])
    rows, cols, x = (backend.to_host(a) for a in cooccurrence(corpus.ids, corpus.sentence,
                                                              len(vocab), 2))
    X = {(vocab.words[i], vocab.words[j]): v for i, j, v in zip(rows, cols, x)}
    assert X[("a", "c")] == pytest.approx(1 / 2 + 1) and X[("a", "b")] == pytest.approx(1)
    assert ("b", "b") not in X


def topic_separation(wv, topics):
    """mean cosine within topics minus mean cosine across them."""
    unit = wv.unit
    within, across = [], []
    for k, words in enumerate(topics):
        for a in words:
            for b in words:
                if a != b:
                    within.append(float(unit[wv.ids[a]] @ unit[wv.ids[b]]))
            for b in topics[1 - k]:
                across.append(float(unit[wv.ids[a]] @ unit[wv.ids[b]]))
    return np.mean(within) - np.mean(across)


def single_topic_corpus(n=600, seed=0):
    """Sentences of 8 words, each drawn from one of two disjoint topics of 8 words."""
    rnd = random.Random(seed)
    topics = [[f"t{k}w{i}" for i in range(8)] for k in range(2)]
    sentences = []
    for _ in range(n):
        words = topics[rnd.randrange(2)]
        sentences.append([rnd.choice(words) for _ in range(8)])
    return topics, sentences


def test_word2vec_learns_topics(backend):
    topics, sentences = single_topic_corpus()
    vocab = Vocabulary.build(sentences, specials=())
    wv = train_word2vec(sentences, vocab, Word2VecConfig(dim=10, window=3, epochs=3,
                                                         batch_size=256, subsample=None))
    assert topic_separation(wv, topics) > 0.5


def test_glove_learns_topics(backend):
    topics, sentences = single_topic_corpus()
    vocab = Vocabulary.build(sentences, specials=())
    losses = []
    wv = train_glove(sentences, vocab, GloVeConfig(dim=10, window=3, epochs=30, batch_size=64),
                     log=lambda e, loss: losses.append(loss))
    assert losses[-1] < losses[0] / 2
    # GloVe sees only co-occurring pairs (never pushes the topics apart), so the margin is
    # smaller than word2vec's; random vectors give about 0
    assert topic_separation(wv, topics) > 0.3
