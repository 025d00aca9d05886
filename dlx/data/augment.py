"""Data augmentation on the device, per mini-batch, with the backend's seeded generator.

Each transform maps an (N, C, H, W) batch (a backend array) to a new array of the same
shape; random choices are drawn per example from ``backends.current().rng``, so the same
seed gives the same augmented batches (``fit`` shuffles with the same generator). Compose
them and pass the result to ``fit(..., augment=...)``::

    augment = Compose(RandomShift(1), RandomRotation(10), Jitter(0.1, 0.1), Noise(0.02))
    fit(model, (X, y), augment=augment)

Only ``HorizontalFlip`` changes meaning for some data (a flipped digit is not a digit), so
it is never implied: add it where mirror images are the same class.
"""

from __future__ import annotations

import math

from dlx import backends
from dlx.errors import ConfigError, ShapeError


def _check(name, x):
    if x.ndim != 4:
        raise ShapeError(f"{name}: expected an NCHW batch (N, C, H, W), got shape {x.shape}")


def _resample(xp, x, src_rows, src_cols):
    """out[n, c, i, j] = x[n, c, src_rows[n, i, j], src_cols[n, i, j]], zero where the
    source lies outside the image. src_*: integer (N, H, W)."""
    n, _, h, w = x.shape
    inside = (src_rows >= 0) & (src_rows < h) & (src_cols >= 0) & (src_cols < w)
    rows, cols = xp.clip(src_rows, 0, h - 1), xp.clip(src_cols, 0, w - 1)
    batch = xp.arange(n).reshape(n, 1, 1)
    out = x[batch, :, rows, cols]  # (N, H, W, C): advanced indices first
    out = out * inside[..., None].astype(x.dtype)
    return xp.ascontiguousarray(out.transpose(0, 3, 1, 2))


def shift_images(x, dy, dx):
    """Example n moved down by dy[n] and right by dx[n] whole pixels (integer (N,) arrays),
    zeros shifted in: out[n, :, i, j] = x[n, :, i - dy[n], j - dx[n]]."""
    xp = backends.backend_of(x).xp
    n, _, h, w = x.shape
    rows = xp.arange(h).reshape(1, h, 1) - dy.reshape(n, 1, 1)
    cols = xp.arange(w).reshape(1, 1, w) - dx.reshape(n, 1, 1)
    return _resample(xp, x, xp.broadcast_to(rows, (n, h, w)), xp.broadcast_to(cols, (n, h, w)))


def rotate_images(x, theta):
    """Example n rotated anticlockwise by theta[n] radians about its centre, nearest whole
    pixel (rows point down): output (i, j) reads, in centred coordinates,
    r = i cos(theta) + j sin(theta), c = j cos(theta) - i sin(theta), rounded."""
    xp = backends.backend_of(x).xp
    n, _, h, w = x.shape
    theta = theta.reshape(n, 1, 1)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    i = xp.arange(h, dtype=xp.float64).reshape(1, h, 1) - cy
    j = xp.arange(w, dtype=xp.float64).reshape(1, 1, w) - cx
    cos, sin = xp.cos(theta), xp.sin(theta)
    rows = xp.rint(cos * i + sin * j + cy).astype(xp.int64)
    cols = xp.rint(cos * j - sin * i + cx).astype(xp.int64)
    return _resample(xp, x, rows, cols)


def _uniform(rng, xp, n, low, high):
    return low + (high - low) * rng.random(n, dtype=xp.float64)


class Transform:
    """Base class: ``transform(x) -> x'`` on a device batch."""

    def __call__(self, x):
        _check(type(self).__name__, x)
        backend = backends.current()
        return self.apply(backend.xp, backend.rng, x)

    def apply(self, xp, rng, x):
        raise NotImplementedError


class Compose(Transform):
    """Apply ``transforms`` in order."""

    def __init__(self, *transforms):
        for t in transforms:
            if not callable(t):
                raise ConfigError(f"Compose: every transform must be callable, got {t!r}")
        self.transforms = transforms

    def apply(self, xp, rng, x):
        for t in self.transforms:
            x = t(x)
        return x


class HorizontalFlip(Transform):
    """Mirror each example left-right with probability ``p`` (opt-in; see module docstring)."""

    def __init__(self, p: float = 0.5):
        if not 0.0 <= p <= 1.0:
            raise ConfigError(f"HorizontalFlip: p must be in [0, 1], got {p}")
        self.p = float(p)

    def apply(self, xp, rng, x):
        flip = (rng.random(x.shape[0]) < self.p).reshape(-1, 1, 1, 1)
        return xp.where(flip, x[..., ::-1], x)


class RandomShift(Transform):
    """Shift each example by whole pixels (dy, dx), each uniform in [-max_shift, max_shift],
    filling with zeros: the same as zero-padding by ``max_shift`` and cropping back to H x W
    at a random offset (the usual "random crop with padding")."""

    def __init__(self, max_shift: int = 1):
        if int(max_shift) < 0:
            raise ConfigError(f"{type(self).__name__}: the shift must be >= 0, got {max_shift}")
        self.max_shift = int(max_shift)

    def apply(self, xp, rng, x):
        n, k = x.shape[0], self.max_shift
        dy = xp.floor(_uniform(rng, xp, n, -k, k + 1)).astype(xp.int64)
        dx = xp.floor(_uniform(rng, xp, n, -k, k + 1)).astype(xp.int64)
        return shift_images(x, dy, dx)


class RandomCrop(RandomShift):
    """Zero-pad by ``padding`` pixels, crop back to the input size at a random offset."""

    def __init__(self, padding: int = 1):
        super().__init__(padding)


class RandomRotation(Transform):
    """Rotate each example about its centre by an angle uniform in [-degrees, degrees],
    sampling the nearest whole pixel (no interpolation; :func:`rotate_images`); corners
    that come from outside the image become zero."""

    def __init__(self, degrees: float = 10.0):
        if not degrees >= 0:
            raise ConfigError(f"RandomRotation: degrees must be >= 0, got {degrees}")
        self.degrees = float(degrees)

    def apply(self, xp, rng, x):
        theta = _uniform(rng, xp, x.shape[0], -self.degrees, self.degrees) * math.pi / 180
        return rotate_images(x, theta)


class Jitter(Transform):
    """Intensity/colour jitter per example and channel:
    x' = (x - mean) * (1 + c) + mean + b, with c ~ U(-contrast, contrast) and
    b ~ U(-brightness, brightness); ``clip`` = (lo, hi) keeps the valid range (or None)."""

    def __init__(self, brightness: float = 0.1, contrast: float = 0.1, clip=(0.0, 1.0)):
        if brightness < 0 or contrast < 0:
            raise ConfigError(f"Jitter: brightness and contrast must be >= 0, got "
                              f"{brightness}, {contrast}")
        self.brightness, self.contrast, self.clip = float(brightness), float(contrast), clip

    def apply(self, xp, rng, x):
        n, c = x.shape[:2]
        scale = 1 + _uniform(rng, xp, n * c, -self.contrast, self.contrast)
        shift = _uniform(rng, xp, n * c, -self.brightness, self.brightness)
        mean = x.mean(axis=(2, 3), keepdims=True)
        out = (x - mean) * scale.reshape(n, c, 1, 1).astype(x.dtype) + mean \
            + shift.reshape(n, c, 1, 1).astype(x.dtype)
        return out if self.clip is None else xp.clip(out, *self.clip)


class Noise(Transform):
    """Additive Gaussian noise of standard deviation ``std``."""

    def __init__(self, std: float = 0.05):
        if not std >= 0:
            raise ConfigError(f"Noise: std must be >= 0, got {std}")
        self.std = float(std)

    def apply(self, xp, rng, x):
        return x + (self.std * rng.standard_normal(x.shape, dtype=xp.float64)).astype(x.dtype)
