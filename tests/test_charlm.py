"""The character-level language model on Faker's en_US names: data, vocabulary, a short
training run that beats a unigram model, seeded sampling, the CLI, the missing-extra error."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

import dlx.backends as B
from dlx import ConfigError, Tensor
from dlx.cli import main
from dlx.data.names import load_names
from dlx.models.charlm import (CharLM, CharVocab, encode_batch, perplexity, sample,
                               train_charlm, unigram_perplexity)

needs_faker = pytest.mark.skipif(importlib.util.find_spec("faker") is None,
                                 reason="the names dataset needs Faker: pip install 'dlx[names]'")


@needs_faker
def test_names_come_from_fakers_en_us_provider():
    from faker.providers.person.en_US import Provider

    names = load_names()
    assert len(names) > 1000 and names == sorted(set(names))
    assert "smith" in names and Provider.last_names and all(n.islower() for n in names)


def test_missing_faker_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "faker", None)  # makes `import faker` fail
    with pytest.raises(ConfigError, match=r"pip install 'dlx\[names\]'"):
        load_names()


def test_encoding_shifts_targets_and_pads(backend):
    vocab = CharVocab.from_names(["ab", "b"])
    assert vocab.chars == ["\n", "a", "b"]
    x, t, lengths = encode_batch(vocab, ["ab", "b"])
    x, t = backend.to_host(x), backend.to_host(t).reshape(2, 3)
    np.testing.assert_array_equal(x[0].argmax(axis=1), [0, 1, 2])  # \n a b
    np.testing.assert_array_equal(t[0], [1, 2, 0])                  # a b \n
    np.testing.assert_array_equal(t[1], [2, 0, -100])               # b \n (pad)
    np.testing.assert_array_equal(backend.to_host(lengths), [3, 2])
    with pytest.raises(ConfigError, match="not in the vocabulary"):
        vocab.encode("abc")


@needs_faker
@pytest.mark.slow
def test_short_training_beats_unigram_and_samples_are_seeded():
    with B.use("numpy") as be:
        be.seed(0)
        names = load_names()
        order = be.to_host(be.xp.argsort(be.rng.random(len(names)))).tolist()
        test, train = [names[i] for i in order[:150]], [names[i] for i in order[150:750]]
        vocab = CharVocab.from_names(names)
        model = CharLM(len(vocab), 32, "lstm")
        history = train_charlm(model, vocab, train, epochs=3, batch_size=32, lr=0.02)
        assert history[-1] < history[0]
        ppl, base = perplexity(model, vocab, test), unigram_perplexity(vocab, train, test)
        assert ppl < 0.75 * base, (ppl, base)
        be.seed(5)
        first = sample(model, vocab, 8, temperature=0.8)
        be.seed(5)
        assert sample(model, vocab, 8, temperature=0.8) == first
        assert all(set(n) <= set(vocab.chars[1:]) for n in first)


def test_lm_logits_shape_and_padding_is_ignored(backend):
    vocab = CharVocab.from_names(["abc", "b"])
    model = CharLM(len(vocab), 5, "gru", dtype=np.float64)
    x, t, lengths = encode_batch(vocab, ["abc", "b"], np.float64)
    assert model(Tensor(x), lengths).shape == (2, 4, len(vocab))
    alone = encode_batch(vocab, ["b"], np.float64)
    both = model.loss(Tensor(x), t, lengths).item()
    first = model.loss(Tensor(encode_batch(vocab, ["abc"], np.float64)[0]),
                       *encode_batch(vocab, ["abc"], np.float64)[1:]).item()
    second = model.loss(Tensor(alone[0]), *alone[1:]).item()
    assert both == pytest.approx((4 * first + 2 * second) / 6, rel=1e-12)


@needs_faker
@pytest.mark.slow
def test_cli_train_and_sample(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "charlm", "--dataset", "names", "--epochs", "1",
                 "--backend", "numpy", "--out", str(out), "--quiet"]) == 0
    line = capsys.readouterr().out
    assert "held-out perplexity per character" in line and "unigram" in line
    assert main(["sample", str(out / "checkpoint.npz"), "-n", "4", "--temperature", "0.8",
                 "--backend", "numpy"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    assert main(["train", "--model", "charlm", "--dataset", "digits", "--backend", "numpy",
                 "--out", str(out)]) == 2
    assert "trains on --dataset names" in capsys.readouterr().err
