"""On-device augmentation: each transform against a direct reference, seeding, fit(augment=)."""

import math

import numpy as np
import pytest

import dlx.nn as nn
from dlx.data.augment import (Compose, HorizontalFlip, Jitter, Noise, RandomCrop, RandomRotation,
                              RandomShift, rotate_images, shift_images)
from dlx.errors import ConfigError, ShapeError


def _batch(backend, rng, shape=(6, 2, 7, 7)):
    return backend.asarray(rng.uniform(0.1, 1.0, shape))


def _shift_reference(x, dy, dx):
    out = np.zeros_like(x)
    h, w = x.shape[2:]
    for n in range(x.shape[0]):
        for i in range(h):
            for j in range(w):
                if 0 <= i - dy[n] < h and 0 <= j - dx[n] < w:
                    out[n, :, i, j] = x[n, :, i - dy[n], j - dx[n]]
    return out


def test_shift_images_equals_a_loop_reference(backend, rng):
    x = _batch(backend, rng)
    dy, dx = np.array([0, 1, -1, 2, -3, 7]), np.array([0, -1, 2, 0, 1, 0])
    out = shift_images(x, backend.asarray(dy), backend.asarray(dx))
    want = _shift_reference(backend.to_host(x), dy, dx)
    np.testing.assert_array_equal(backend.to_host(out), want)


def test_rotation_by_quarter_turns_equals_rot90(backend, rng):
    x = _batch(backend, rng)
    for k in (0, 1, 2, -1):
        theta = backend.asarray(np.full(x.shape[0], k * math.pi / 2))
        np.testing.assert_array_equal(backend.to_host(rotate_images(x, theta)),
                                      np.rot90(backend.to_host(x), k, axes=(2, 3)))


def test_random_shift_is_one_of_the_allowed_shifts(backend, rng):
    x = _batch(backend, rng)
    out, host = backend.to_host(RandomShift(1)(x)), backend.to_host(x)
    for n in range(x.shape[0]):
        assert any(np.array_equal(out[n], _shift_reference(host[n:n + 1], [dy], [dx])[0])
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def test_flip_probability_extremes_and_mixture(backend, rng):
    x = _batch(backend, rng, (64, 1, 3, 4))
    host = backend.to_host(x)
    np.testing.assert_array_equal(backend.to_host(HorizontalFlip(1.0)(x)), host[..., ::-1])
    np.testing.assert_array_equal(backend.to_host(HorizontalFlip(0.0)(x)), host)
    out = backend.to_host(HorizontalFlip(0.5)(x))
    flipped = [np.array_equal(out[n], host[n, :, :, ::-1]) for n in range(64)]
    kept = [np.array_equal(out[n], host[n]) for n in range(64)]
    assert all(f or k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 54


def test_jitter_and_noise_stay_in_range_and_are_zero_when_disabled(backend, rng):
    x = _batch(backend, rng)
    np.testing.assert_allclose(backend.to_host(Jitter(0, 0)(x)), backend.to_host(x), atol=1e-12)
    out = backend.to_host(Jitter(0.5, 0.5)(x))
    assert out.min() >= 0 and out.max() <= 1 and not np.allclose(out, backend.to_host(x))
    noisy = backend.to_host(Noise(0.1)(backend.asarray(np.zeros((20, 3, 16, 16)))))
    assert abs(noisy.std() - 0.1) < 0.01 and abs(noisy.mean()) < 0.01


def test_same_seed_same_batches(backend, rng):
    x = _batch(backend, rng)
    augment = Compose(HorizontalFlip(), RandomCrop(2), RandomRotation(15), Jitter(), Noise())
    backend.seed(3)
    a = backend.to_host(augment(x))
    backend.seed(3)
    b = backend.to_host(augment(x))
    backend.seed(4)
    c = backend.to_host(augment(x))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and a.shape == x.shape


def test_fit_applies_augment_to_every_training_batch(backend, rng):
    X = rng.uniform(size=(40, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    seen = []

    def augment(xb):
        seen.append(xb.shape[0])
        return Noise(0.1)(xb)

    histories = []
    for _ in range(2):
        backend.seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Dense(16, 2))
        histories.append(model.fit((X, y), epochs=2, batch_size=16, augment=augment,
                                   verbose=False).records)
    assert seen == [16, 16, 8] * 4
    assert histories[0][-1]["cost"] == histories[1][-1]["cost"]


def test_bad_arguments_are_clear_errors(backend):
    with pytest.raises(ConfigError, match="HorizontalFlip"):
        HorizontalFlip(2.0)
    with pytest.raises(ConfigError, match="RandomShift"):
        RandomShift(-1)
    with pytest.raises(ShapeError, match="NCHW"):
        Noise()(backend.asarray(np.zeros((2, 3))))
