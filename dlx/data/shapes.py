"""A synthetic object-detection data set generated in code: coloured shapes on noise.

``make_shapes(n, seed)`` -> images (n, 3, 64, 64) float32 in [0, 1], boxes (n, k, 4)
corners (x1, y1, x2, y2) relative to the image (0..1), classes (n, k) int64 with -1 as
padding (k = max_objects). Classes: 0 rectangle, 1 circle (disc), 2 triangle. Each image
holds 1..max_objects shapes of random colour and size (``min_size``..``max_size`` pixels),
placed without overlapping each other, on a textured background (smoothed noise). Boxes
are exact: the tight bounds of the drawn pixels. Same seed, same data set.
"""

from __future__ import annotations

import numpy as np  # host-side data generation

from dlx.errors import ConfigError

CLASSES = ("rectangle", "circle", "triangle")


def _background(rng, size):
    coarse = rng.uniform(0.0, 0.5, (3, size // 8 + 1, size // 8 + 1))
    smooth = np.kron(coarse, np.ones((8, 8)))[:, :size, :size]
    return smooth + rng.normal(0, 0.05, (3, size, size))


def _mask(kind, size, top, left, h, w):
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    if kind == 0:
        return (yy >= top) & (yy < top + h) & (xx >= left) & (xx < left + w)
    if kind == 1:
        cy, cx, r = top + h / 2, left + w / 2, min(h, w) / 2
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    # triangle: apex at the top centre, base at the bottom
    t = (yy - top) / h
    return (t >= 0) & (t <= 1) & (np.abs(xx - (left + w / 2)) <= t * w / 2)


def make_shapes(n: int, seed: int = 0, size: int = 64, max_objects: int = 3,
                min_size: int = 10, max_size: int = 24):
    """See the module docstring."""
    if n < 1 or max_objects < 1 or not 2 <= min_size <= max_size < size:
        raise ConfigError(f"make_shapes: need n >= 1, max_objects >= 1 and 2 <= min_size <= "
                          f"max_size < size, got {n}, {max_objects}, {min_size}, {max_size}")
    rng = np.random.default_rng(seed)
    images = np.empty((n, 3, size, size), np.float32)
    boxes = np.zeros((n, max_objects, 4), np.float32)
    classes = np.full((n, max_objects), -1, np.int64)
    for i in range(n):
        image = _background(rng, size)
        taken = np.zeros((size, size), bool)
        for k in range(int(rng.integers(1, max_objects + 1))):
            for _attempt in range(20):
                kind = int(rng.integers(0, 3))
                h, w = rng.integers(min_size, max_size + 1, 2)
                if kind == 1:
                    h = w
                top, left = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
                mask = _mask(kind, size, top, left, h, w)
                grown = np.zeros_like(taken)
                grown[max(top - 2, 0):top + h + 2, max(left - 2, 0):left + w + 2] = True
                if mask.any() and not (taken & grown).any():
                    break
            else:
                continue
            colour = rng.uniform(0.55, 1.0, 3) * (rng.uniform(size=3) < 0.7)
            colour[rng.integers(0, 3)] = rng.uniform(0.8, 1.0)  # always one bright channel
            image[:, mask] = colour[:, None]
            taken |= mask
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            boxes[i, k] = [cols[0] / size, rows[0] / size, (cols[-1] + 1) / size,
                           (rows[-1] + 1) / size]
            classes[i, k] = kind
        images[i] = np.clip(image, 0, 1)
    return images, boxes, classes
