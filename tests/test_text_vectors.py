"""Vocabulary, word-vector tools (similarity, neighbours, analogies) and the course's
debiasing (neutralise, equalise)."""

import numpy as np
import pytest

from dlx.errors import ConfigError, ShapeError
from dlx.text import (EOS, UNK, Vocabulary, WordVectors, bias_direction, cosine_similarity,
                      equalize, euclidean_distance, neutralize, simple_tokenize)


def test_vocabulary_counts_specials_and_round_trip():
    sentences = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "end"]]
    vocab = Vocabulary.build(sentences, min_count=1)
    assert vocab.words[:4] == ["<pad>", "<unk>", "<s>", "</s>"]
    assert vocab.words[4:6] == ["the", "sat"]          # by count, then alphabetical
    assert vocab.counts[vocab.index("the")] == 3
    ids = vocab.encode(["the", "zebra"], eos=True)
    assert ids == [vocab.index("the"), vocab.ids[UNK], vocab.ids[EOS]]
    assert vocab.decode(ids) == ["the", "<unk>"]
    assert len(Vocabulary.build(sentences, min_count=2)) == 4 + 2
    assert len(Vocabulary.build(sentences, max_size=5)) == 5
    with pytest.raises(ConfigError, match="unknown word"):
        Vocabulary.build(sentences, specials=()).index("zebra")
    assert simple_tokenize("Don't STOP, 42 times!") == ["don't", "stop", "42", "times"]


def toy_vectors(backend):
    words = ["man", "woman", "king", "queen", "apple", "he", "she"]
    vectors = np.array([[1, 0, 0.1], [-1, 0, 0.1], [1, 1, 0], [-1, 1, 0], [0, 0, 1],
                        [1.1, 0, 0], [-1.1, 0, 0]])
    return WordVectors(words, backend.asarray(vectors))


def test_similarity_distance_and_neighbours(backend, rng):
    u, v = rng.normal(size=5), rng.normal(size=5)
    assert cosine_similarity(backend.asarray(u), backend.asarray(v)) == pytest.approx(
        u @ v / np.linalg.norm(u) / np.linalg.norm(v))
    assert euclidean_distance(backend.asarray(u), backend.asarray(v)) == pytest.approx(
        np.linalg.norm(u - v))
    wv = toy_vectors(backend)
    assert wv.nearest("man", 1)[0][0] == "he"
    assert "man" not in [w for w, _ in wv.nearest("man", 6)]
    with pytest.raises(ShapeError):
        cosine_similarity(backend.asarray(u), backend.asarray(v[:3]))


def test_analogy_excludes_the_query_words(backend):
    wv = toy_vectors(backend)
    assert wv.analogy("man", "woman", "king")[0][0] == "queen"
    result = wv.analogy_accuracy([("man", "woman", "king", "queen"),
                                  ("woman", "man", "queen", "king"),
                                  ("man", "king", "woman", "apple"),
                                  ("man", "woman", "prince", "princess")])
    assert result == {"accuracy": 2 / 3, "correct": 2, "asked": 3, "skipped": 1}
    with pytest.raises(ConfigError, match="prince"):
        wv.analogy("man", "woman", "prince")


def test_neutralise_removes_the_bias_component(backend, rng):
    V = rng.normal(size=(12, 50))
    words = [f"w{i}" for i in range(10)] + ["woman", "man"]
    wv = WordVectors(words, backend.asarray(V))
    for method in ("mean", "pca"):
        g = bias_direction(wv, [("woman", "man")], method=method)
        for w in words[:10]:
            e = neutralize(wv[w], g)
            assert abs(float(e @ g)) / float(np.linalg.norm(backend.to_host(g))) < 1e-6
            # only the component along g changed
            residual = backend.to_host(wv[w] - e)
            assert abs(abs(cosine_similarity(backend.asarray(residual), g)) - 1) < 1e-9


def test_equalise_makes_the_pair_equidistant_from_neutral_words(backend, rng):
    V = rng.normal(size=(8, 30))
    V /= np.linalg.norm(V, axis=1, keepdims=True)  # the course's formula assumes unit vectors
    words = ["actor", "actress", "he", "she", "doctor", "babysit", "w6", "w7"]
    wv = WordVectors(words, backend.asarray(V))
    g = bias_direction(wv, [("actress", "actor"), ("she", "he")])
    e1, e2 = equalize(wv["actor"], wv["actress"], g)
    for w in ("doctor", "babysit", "w6", "w7"):
        n = neutralize(wv[w], g)
        assert abs(euclidean_distance(e1, n) - euclidean_distance(e2, n)) < 1e-9
    # the pair now differs only along g, symmetrically about the neutral subspace
    assert euclidean_distance(e1, wv["actor"]) > 1e-3  # it was changed
    diff = backend.to_host(e1 - e2)
    assert abs(abs(cosine_similarity(backend.asarray(diff), g)) - 1) < 1e-9
    assert float((e1 + e2) @ g) == pytest.approx(0.0, abs=1e-9)


def test_bad_inputs(backend):
    with pytest.raises(ShapeError, match="WordVectors"):
        WordVectors(["a", "b"], backend.asarray(np.zeros((3, 2))))
    with pytest.raises(ConfigError, match="unique"):
        WordVectors(["a", "a"], backend.asarray(np.zeros((2, 2))))
    wv = toy_vectors(backend)
    with pytest.raises(ConfigError, match="pair"):
        bias_direction(wv, [])
    with pytest.raises(ConfigError, match="method"):
        bias_direction(wv, [("he", "she")], method="svd")
