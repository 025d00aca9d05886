"""Property tests (hypothesis): random label vectors for every loss, and for fit's check.

Each loss is refused (LabelError) exactly when a label is invalid -- outside [0, K) for
softmax cross-entropy (unless it equals an ignore_index the caller passed), outside [0, 1]
or NaN for the binary losses and probability predictions, non-finite for mean squared
error -- and otherwise returns a finite cost equal to a NumPy reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dlx.backends as B
import dlx.functional as F
from dlx import nn
from dlx.errors import LabelError
from dlx.train.targets import prepare

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)

int_labels = st.lists(st.integers(-3, 6) | st.just(-100), min_size=1, max_size=12)
float_targets = st.lists(st.floats(-0.5, 1.5) | st.sampled_from([0.0, 1.0, np.nan, np.inf]),
                         min_size=1, max_size=12)


@pytest.fixture(autouse=True)
def numpy_backend():
    with B.use("numpy"):
        yield


def logits(m, k):
    return np.random.default_rng(m * 31 + k).normal(size=(m, k))


def ce_reference(z, t, keep):
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    rows = np.flatnonzero(keep)
    return np.mean(lse[rows] - z[rows, t[rows]])


@SETTINGS
@given(labels=int_labels, k=st.integers(1, 5), ignore=st.sampled_from([None, -100]))
def test_softmax_ce_refuses_exactly_the_invalid_labels(labels, k, ignore):
    t = np.array(labels)
    z = logits(len(t), k)
    valid = (t >= 0) & (t < k)
    allowed = valid | (t == ignore) if ignore is not None else valid
    if not allowed.all():
        with pytest.raises(LabelError, match=r"labels must be integers in \[0, K\)"):
            F.softmax_cross_entropy(z, t, ignore_index=ignore)
        return
    if not valid.any():
        return  # every row ignored: no mean to compare
    loss = F.softmax_cross_entropy(z, t, ignore_index=ignore).item()
    assert loss == pytest.approx(ce_reference(z, t, valid), rel=1e-10)


@SETTINGS
@given(labels=int_labels, k=st.integers(2, 5))
def test_probability_cross_entropy_refuses_exactly_the_invalid_labels(labels, k):
    t = np.array(labels)
    z = logits(len(t), k)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    valid = (t >= 0) & (t < k)
    if not valid.all():
        with pytest.raises(LabelError, match=r"labels must be integers in \[0, K\)"):
            F.cross_entropy(p, t)
        return
    assert F.cross_entropy(p, t).item() == pytest.approx(ce_reference(z, t, valid), rel=1e-6)


@SETTINGS
@given(targets=float_targets, logits_=st.booleans())
def test_binary_losses_refuse_exactly_the_targets_outside_0_1(targets, logits_):
    y = np.array(targets)
    z = np.linspace(-2, 2, len(y))
    a = 1 / (1 + np.exp(-z))
    loss = (lambda: F.binary_cross_entropy_with_logits(z, y)) if logits_ \
        else (lambda: F.binary_cross_entropy(a, y))
    if not ((y >= 0) & (y <= 1)).all():  # NaN compares false: refused too
        with pytest.raises(LabelError, match=r"targets must lie in \[0, 1\]"):
            loss()
        return
    expected = -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))
    assert loss().item() == pytest.approx(expected, rel=1e-9)


@SETTINGS
@given(predictions=float_targets)
def test_bce_refuses_exactly_the_predictions_outside_0_1(predictions):
    a = np.array(predictions)
    y = np.zeros(len(a))
    if not ((a >= 0) & (a <= 1)).all():
        with pytest.raises(LabelError, match=r"predictions must be probabilities in \[0, 1\]"):
            F.binary_cross_entropy(a, y)
        return
    assert np.isfinite(F.binary_cross_entropy(a, y).item())


@SETTINGS
@given(targets=float_targets)
def test_mse_refuses_exactly_the_non_finite_targets(targets):
    y = np.array(targets)
    if not np.isfinite(y).all():
        with pytest.raises(LabelError, match="targets must be finite"):
            F.mean_squared_error(np.zeros(len(y)), y)
        return
    assert F.mean_squared_error(np.zeros(len(y)), y).item() == pytest.approx(np.mean(y ** 2))


@SETTINGS
@given(labels=int_labels, n_out=st.sampled_from([1, 3]), column=st.booleans())
def test_fit_check_refuses_exactly_the_labels_the_model_cannot_output(labels, n_out, column):
    t = np.array(labels)
    X = np.linspace(-1, 1, 2 * len(t)).reshape(len(t), 2)
    model = nn.Sequential(nn.Dense(2, n_out, dtype="float64"))
    y = t[:, None] if column else t
    k = 2 if n_out == 1 else n_out
    if not ((t >= 0) & (t < k)).all():
        with pytest.raises(LabelError):
            prepare("train", model, X, y)
        return
    task, targets = prepare("train", model, X, y)
    assert task.kind == ("binary" if n_out == 1 else "labels")
    np.testing.assert_array_equal(np.asarray(targets).reshape(-1), t)


shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)


@SETTINGS
@given(pred=shapes, target=shapes)
def test_targets_are_refused_unless_the_shapes_match_up_to_a_trailing_1(pred, target):
    """(m,) and (m, 1) are interchangeable; every other pair is refused (never broadcast)."""
    from dlx.errors import ShapeError

    ok = pred == target or pred == target + (1,) or target == pred + (1,)
    a, y = np.zeros(pred), np.zeros(target)
    for loss in (F.mean_squared_error, F.binary_cross_entropy_with_logits):
        if ok:
            assert loss(a, y).shape == ()
        else:
            with pytest.raises(ShapeError, match="do not match predictions"):
                loss(a, y)
