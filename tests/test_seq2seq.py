"""Date data (Babel, 'y' not 'Y') and the attention seq2seq: gradient check of the loss on
every backend, teacher forcing consistent with decoding (it memorises a few dates)."""

import datetime

import numpy as np
import pytest

pytest.importorskip("babel")

from dlx.gradcheck import directional_check  # noqa: E402
from dlx.text.dates import (FORMATS, TARGET_LEN, date_vocabularies, encode_dates,  # noqa: E402
                            generate_dates)
from dlx.text.seq2seq import AttentionSeq2Seq, exact_match, fit_seq2seq  # noqa: E402
from dlx.text.vocab import BOS, EOS  # noqa: E402


def test_generated_dates_are_correct_and_reproducible():
    from babel.dates import format_date

    pairs = generate_dates(300, seed=3)
    assert pairs == generate_dates(300, seed=3) and pairs != generate_dates(300, seed=4)
    for human, iso in pairs:
        day = datetime.date.fromisoformat(iso)
        renderings = {format_date(day, format=f, locale="en_US").lower() for f in FORMATS}
        assert human in renderings
    # the calendar year, not CLDR's week-based 'Y' (which reads 2019 here)
    last = datetime.date(2018, 12, 31)
    assert format_date(last, format="d MMMM y", locale="en_US") == "31 December 2018"
    assert "2019" in format_date(last, format="d MMMM YYYY", locale="en_US")


def test_encoding_shapes_and_round_trip(backend):
    pairs = generate_dates(5, seed=0)
    X, L, Y = encode_dates(pairs)
    assert X.shape == (5, 30) and Y.shape == (5, TARGET_LEN)
    source, target = date_vocabularies()
    for i, (human, iso) in enumerate(pairs):
        ids = backend.to_host(X[i])
        assert "".join(source.decode(ids[:int(L[i])])) == human
        assert not ids[int(L[i]):].any()  # <pad> is id 0
        assert "".join(target.decode(backend.to_host(Y[i]))) == iso


def tiny_model(dtype=None, **sizes):
    source, target = date_vocabularies()
    sizes = sizes or dict(embed_dim=3, n_a=2, n_s=3, n_hidden=2)
    model = AttentionSeq2Seq(len(source), len(target), target.ids[BOS], target.ids[EOS],
                             **sizes)
    if dtype is not None:
        for p in model.parameters():
            p.data = p.data.astype(dtype)
    return model


def test_seq2seq_loss_gradient_check(backend):
    model = tiny_model(np.float64)
    X, L, Y = encode_dates([("9 may 1979", "1979-05-09"), ("1/2/03", "2003-01-02")],
                           max_len=12)
    Y = Y[:, :4]  # a short target keeps the check quick
    # the directional (random-projection) check: the full one takes minutes on ~300 weights
    diff = directional_check(lambda: model.loss(X, L, Y), model.parameters(), n_directions=4)
    assert diff < 1e-7


def test_teacher_forcing_learns_what_decoding_reproduces(backend):
    backend.seed(0)
    pairs = generate_dates(8, seed=5)
    data = encode_dates(pairs)
    model = tiny_model(embed_dim=8, n_a=16, n_s=32)
    before = exact_match(model.translate(data[0], data[1]).tokens, data[2])
    fit_seq2seq(model, data, epochs=100, batch_size=8, lr=0.03)
    greedy = model.translate(data[0], data[1])
    beam = model.translate(data[0], data[1], beam_width=3)
    assert before == 0.0
    assert exact_match(greedy.tokens, data[2]) == 1.0
    assert exact_match(beam.tokens, data[2]) == 1.0
    tokens, alphas = model.attention_map(data[0][:1], data[1][:1])
    a = backend.to_host(alphas)[0]
    assert a.shape == (TARGET_LEN, 30)
    np.testing.assert_allclose(a.sum(axis=1), 1, rtol=1e-5)
    assert not a[:, int(data[1][0]):].any()  # no attention on padding
