"""Topic sentences from the chatterbot-corpus wheel, and the Emojify models on them
(embeddings trained jointly from a random start) beating the majority class."""

import importlib.util

import numpy as np
import pytest

from dlx.data.datasets import train_dev_test_split
from dlx.errors import ConfigError, DlxError
from dlx.text import Vocabulary
from dlx.text import topics as topics_module
from dlx.text.classify import AveragedEmbeddingClassifier, LSTMClassifier
from dlx.text.topics import padded_ids, topic_sentences
from dlx.text.vocab import PAD, UNK
from dlx.train import evaluate, fit

needs_corpus = pytest.mark.skipif(importlib.util.find_spec("chatterbot_corpus") is None,
                                  reason="chatterbot-corpus (the text extra) is not installed")


@needs_corpus
def test_topic_sentences_are_distinct_lines_labelled_by_topic():
    sentences, labels, names = topic_sentences()
    assert names == ["food", "sports", "money", "science", "movies"]
    assert len(sentences) == len(labels) > 200
    assert set(labels) == set(range(5)) and min(np.bincount(labels)) >= 25
    joined = [" ".join(s) for s in sentences]
    assert len(set(joined)) == len(joined)  # no line under two topics
    with pytest.raises(ConfigError, match="no English topic 'cooking'"):
        topic_sentences(["food", "cooking"])


def test_missing_corpus_names_the_extra(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DlxError, match=r"chatterbot-corpus.*dlx\[text\]"):
        topics_module.topic_sentences()


@needs_corpus
@pytest.mark.parametrize("make, epochs, lr, floor", [
    (lambda t: AveragedEmbeddingClassifier(t, 5, frozen=False), 100, 0.05, 0.5),
    (lambda t: LSTMClassifier(t, 5, n_a=16, frozen=False), 30, 0.01, 0.45)],
    ids=["averaged", "lstm"])
def test_classifiers_beat_the_majority_class(backend, make, epochs, lr, floor):
    sentences, labels, _ = topic_sentences()
    split = train_dev_test_split(np.arange(len(sentences)), np.asarray(labels), test=0.3,
                                 seed=0)
    vocab = Vocabulary([PAD, UNK] + sorted({w for i in split.X_train for w in sentences[i]}))
    table = np.random.default_rng(0).normal(0, 0.1, (len(vocab), 16)).astype(np.float32)
    table[:2] = 0
    X = np.asarray(padded_ids(sentences, vocab))
    y = np.asarray(labels)
    model = make(table)
    fit(model, (X[split.X_train], y[split.X_train]), epochs=epochs, batch_size=16, lr=lr,
        verbose=False)
    model.eval()
    majority = np.bincount(split.y_test).max() / len(split.y_test)
    accuracy = evaluate(model, (X[split.X_test], y[split.X_test]))["accuracy"]
    assert majority < 0.25 and accuracy >= floor  # at least twice the majority baseline
