"""Mini-batches and input normalisation (the data pipeline of course 2)."""

from __future__ import annotations

import numpy as np
import pytest

from dlx.data import MiniBatches, Standardizer, scale_images
from dlx.errors import ConfigError, ShapeError


def data(m=10, n=3):
    X = np.arange(m * n, dtype=np.float64).reshape(m, n)
    return X, np.arange(m)


def collect(backend, batches):
    return [tuple(backend.to_host(a) for a in batch) for batch in batches]


def test_fixed_size_with_smaller_last_batch_and_every_example_once(backend):
    X, y = data(10)
    batches = MiniBatches(X, y, batch_size=4)
    got = collect(backend, batches)
    assert len(batches) == 3 and [len(b[1]) for b in got] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in got])
    assert sorted(seen) == list(range(10))
    for xb, yb in got:  # rows stay aligned with their labels
        np.testing.assert_array_equal(xb, X[yb])


def test_batches_live_on_the_backend_with_the_default_dtype(backend):
    X, y = data(6)
    xb, yb = next(iter(MiniBatches(X, y, batch_size=4)))
    assert backend.owns(xb) and backend.owns(yb)
    assert xb.dtype == backend.default_dtype and yb.dtype.kind == "i"


def test_reshuffles_every_epoch_and_is_reproducible_from_the_seed(backend):
    X, y = data(50)
    batches = MiniBatches(X, y, batch_size=50 // 5)
    backend.seed(3)
    epoch1 = np.concatenate([b[1] for b in collect(backend, batches)])
    epoch2 = np.concatenate([b[1] for b in collect(backend, batches)])
    backend.seed(3)
    again = np.concatenate([b[1] for b in collect(backend, batches)])
    assert not np.array_equal(epoch1, epoch2) and not np.array_equal(epoch1, np.arange(50))
    np.testing.assert_array_equal(epoch1, again)


def test_batch_gd_and_sgd_extremes(backend):
    X, y = data(5)
    full = collect(backend, MiniBatches(X, y, batch_size=None))
    assert len(full) == 1 and len(full[0][1]) == 5
    np.testing.assert_array_equal(full[0][1], np.arange(5))  # nothing to shuffle
    sgd = collect(backend, MiniBatches(X, y, batch_size=1))
    assert len(sgd) == 5 and all(len(b[1]) == 1 for b in sgd)


def test_no_shuffle_keeps_order_and_drop_last(backend):
    X, y = data(10)
    got = collect(backend, MiniBatches(X, y, batch_size=4, shuffle=False, drop_last=True))
    assert [list(b[1]) for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_single_array_yields_arrays(backend):
    X, _ = data(4)
    batch = next(iter(MiniBatches(X, batch_size=2, shuffle=False)))
    np.testing.assert_array_equal(backend.to_host(batch), X[:2])


def test_mismatched_or_bad_inputs_raise(backend):
    X, y = data(10)
    with pytest.raises(ShapeError, match="10 examples"):
        MiniBatches(X, y[:9])
    with pytest.raises(ConfigError):
        MiniBatches(X, y, batch_size=0)


def test_standardizer_fits_on_train_and_applies_to_dev(rng):
    X_train = rng.normal(3.0, 2.0, size=(200, 4))
    X_train[:, 3] = 7.0  # a constant feature: centred only
    X_dev = rng.normal(3.0, 2.0, size=(50, 4))
    scaler = Standardizer().fit(X_train)
    Z = scaler.transform(X_train)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z[:, :3].std(axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(Z[:, 3], 0)
    expected = (X_dev - X_train.mean(axis=0)) / np.where(X_train.std(axis=0) > 0,
                                                         X_train.std(axis=0), 1)
    np.testing.assert_allclose(scaler.transform(X_dev), expected, rtol=1e-6)


def test_standardizer_per_channel_for_images(rng):
    X = rng.normal(size=(8, 3, 4, 4)) * np.array([1, 5, 10])[None, :, None, None]
    Z = Standardizer(axis=(0, 2, 3)).fit_transform(X)
    np.testing.assert_allclose(Z.std(axis=(0, 2, 3)), 1, atol=1e-5)


def test_standardizer_errors(rng):
    with pytest.raises(ConfigError, match="fit"):
        Standardizer().transform(np.zeros((2, 3)))
    with pytest.raises(ShapeError):
        Standardizer().fit(np.zeros((5, 3))).transform(np.zeros((5, 4)))


def test_standardizer_state_round_trip(rng):
    X = rng.normal(size=(20, 3))
    a = Standardizer().fit(X)
    b = Standardizer()
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_scale_images():
    X = np.array([[0, 128, 255]], dtype=np.uint8)
    np.testing.assert_allclose(scale_images(X), [[0, 128 / 255, 1]], rtol=1e-7)
    assert scale_images(X).dtype == np.float32
