"""Image files for the vision examples: packaged sample images, user images, PNG output.

Images are float32 (C, H, W) in [0, 1] on the host. scikit-learn ships two photographs
(``china.jpg``, ``flower.jpg``, 427x640, the ``data`` extra); any PNG/JPEG is read with
matplotlib (the ``train`` extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # host-side image file I/O and resizing

from dlx.errors import ConfigError

SAMPLES = ("china", "flower")


def resize(image, size: int):
    """(C, H, W) -> (C, s, s') with the shorter side ``size``, by area averaging over a
    centre crop to a multiple of the factor (nearest neighbour when enlarging)."""
    c, h, w = image.shape
    scale = size / min(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    rows = np.minimum(((np.arange(out_h) + 0.5) / scale).astype(int), h - 1)
    cols = np.minimum(((np.arange(out_w) + 0.5) / scale).astype(int), w - 1)
    if scale >= 1:
        return image[:, rows][:, :, cols].astype(np.float32)
    k = max(1, int(1 / scale))  # box filter, then sample
    cs = np.cumsum(np.cumsum(np.pad(image, ((0, 0), (1, 0), (1, 0))), axis=1), axis=2)
    r0, c0 = np.clip(rows - k // 2, 0, h - k), np.clip(cols - k // 2, 0, w - k)
    box = (cs[:, r0 + k][:, :, c0 + k] - cs[:, r0][:, :, c0 + k] - cs[:, r0 + k][:, :, c0]
           + cs[:, r0][:, :, c0]) / (k * k)
    return box.astype(np.float32)


def center_square(image):
    """The largest centred square crop of a (C, H, W) image."""
    _, h, w = image.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return image[:, top:top + s, left:left + s]


def _to_chw(array, what):
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None].repeat(3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ConfigError(f"{what}: expected an RGB(A) or grey image, got shape {a.shape}")
    a = a[:, :, :3].astype(np.float32)
    if a.max() > 1.0:
        a = a / 255.0
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def load_sample(name: str, size: int | None = None):
    """scikit-learn's sample photograph ``name`` ("china" or "flower") as (3, H, W)."""
    if name not in SAMPLES:
        raise ConfigError(f"unknown sample image {name!r}; expected one of {', '.join(SAMPLES)}")
    try:
        from sklearn.datasets import load_sample_image
    except ImportError:
        raise ConfigError("sample images ship with scikit-learn: pip install 'dlx[data]'") from None
    image = _to_chw(load_sample_image(f"{name}.jpg"), name)
    return image if size is None else resize(image, size)


def load_image(path_or_sample, size: int | None = None):
    """A user image file (PNG/JPEG via matplotlib) or a sample name, as (3, H, W) in [0, 1]."""
    if str(path_or_sample) in SAMPLES:
        return load_sample(str(path_or_sample), size)
    path = Path(path_or_sample)
    if not path.is_file():
        raise ConfigError(f"image {path} does not exist (or name a sample: "
                          f"{', '.join(SAMPLES)})")
    try:
        import matplotlib.image as mpimg
    except ImportError:
        raise ConfigError("reading images needs matplotlib: pip install 'dlx[train]'") from None
    image = _to_chw(mpimg.imread(path), str(path))
    return image if size is None else resize(image, size)


def save_image(path, image) -> Path:
    """Write a (3, H, W) or (H, W, 3) image in [0, 1] as PNG."""
    import matplotlib.pyplot as plt

    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a.transpose(1, 2, 0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, np.clip(a.squeeze(), 0, 1))
    return path
