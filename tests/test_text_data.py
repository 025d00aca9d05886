"""Corpora read from gensim's wheel, the markup cleaner, and the Emojify-style classifiers."""

import importlib.util

import numpy as np
import pytest

from dlx.errors import DlxError
from dlx.text import corpora
from dlx.text.classify import AveragedEmbeddingClassifier, LSTMClassifier
from dlx.train import evaluate, fit

needs_gensim = pytest.mark.skipif(importlib.util.find_spec("gensim") is None,
                                  reason="gensim (the text extra) is not installed")


def test_wiki_markup_cleaner():
    raw = ("'''Anarchism''' is a [[political philosophy]]{{sfn|X|2004}} that [[state (polity)|"
           "states]]<ref name=a>cite</ref> reject.[[Category:Politics]] "
           "[[File:A.jpg|thumb|a [[b]] c]] &lt;b&gt;x [http://e.org example site]")
    text = " ".join(corpora.clean_wiki_markup(raw).split())
    assert text == "Anarchism is a political philosophy that states reject. x example site"


@needs_gensim
def test_bundled_corpora():
    sentences = corpora.wiki_sentences()
    assert sum(map(len, sentences)) > 400_000
    assert all(w == w.lower() for w in sentences[10])
    questions = corpora.analogy_questions()
    assert len(questions) == 19544 and questions[0] == ("athens", "greece", "baghdad", "iraq")
    assert len(corpora.analogy_questions(sections=True)) == 14
    assert len(corpora.similarity_pairs("wordsim353")) == 353
    assert len(corpora.similarity_pairs("simlex999")) == 999
    texts, labels = corpora.polarity_sentences()
    assert len(texts) == 200 and sum(labels) == 100


def test_missing_gensim_names_the_extra(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DlxError, match=r"dlx\[text\]"):
        corpora.gensim_test_data("questions-words.txt")
    with pytest.raises(DlxError, match="similarity_pairs"):
        corpora.similarity_pairs("men")


def sentiment_data(rng, m=120):
    """Sentences of 3-6 words; the label is whether 'good'-group words outnumber 'bad' ones.
    Word vectors: good words near +u, bad words near -u, fillers random."""
    d = 8
    u = rng.normal(size=d)
    good, bad, filler = range(2, 6), range(6, 10), range(10, 20)
    table = rng.normal(size=(20, d)) * 0.3
    table[list(good)] += u
    table[list(bad)] -= u
    table[:2] = 0
    X = np.zeros((m, 6), dtype=np.int64)
    y = np.zeros(m, dtype=np.int64)
    for i in range(m):
        n = rng.integers(3, 7)
        label = i % 2
        words = [rng.choice(list(good if label else bad))] + list(rng.choice(list(filler), n - 1))
        X[i, :n] = rng.permutation(words)
        y[i] = label
    return table.astype(np.float32), X, y


@pytest.mark.parametrize("make", [lambda t: AveragedEmbeddingClassifier(t, 2),
                                  lambda t: LSTMClassifier(t, 2, n_a=8, keep_prob=1.0)],
                         ids=["averaged", "lstm"])
def test_classifiers_learn_and_keep_the_embedding_frozen(backend, rng, make):
    table, X, y = sentiment_data(rng)
    model = make(table)
    fit(model, (X[:80], y[:80]), epochs=20, batch_size=20, lr=0.05, verbose=False)
    model.eval()
    assert evaluate(model, (X[80:], y[80:]))["accuracy"] >= 0.9
    np.testing.assert_array_equal(model.embedding.weight.to_numpy(), table)
