"""Bundled datasets (offline) and train/dev/test splits.

Every loader returns host NumPy arrays ``X`` (m, n_features) or (m, C, H, W) float32 and
``y`` (m,) int64 labels. Nothing is downloaded: digits and breast cancer ship with
scikit-learn (the ``data`` extra); spirals are generated in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np  # file I/O and host-side data preparation

from dlx.errors import ConfigError, DataError, LabelError, ShapeError


@dataclass
class Split:
    """Train/dev/test arrays of one dataset."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_dev.max(initial=0),
                       self.y_test.max(initial=0))) + 1


def _sklearn():
    try:
        import sklearn.datasets as ds
    except ImportError:
        raise ConfigError("this dataset ships with scikit-learn: pip install 'dlx[data]'") from None
    return ds


def load_digits(images: bool = False):
    """The 1797 8x8 handwritten digits: X (1797, 64) in [0, 1], or (1797, 1, 8, 8) if images."""
    data = _sklearn().load_digits()
    X = (data.data / 16.0).astype(np.float32)
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return X, data.target.astype(np.int64)


def load_breast_cancer():
    """569 tumours, 30 features (unnormalised), y = 1 for benign."""
    data = _sklearn().load_breast_cancer()
    return data.data.astype(np.float32), data.target.astype(np.int64)


def make_spirals(n_per_class: int = 200, n_classes: int = 2, noise: float = 0.2, seed: int = 0):
    """Interleaved 2-D spirals (a problem no linear classifier solves): X (m, 2), y (m,)."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(n_classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        theta = np.linspace(0, 4 * np.pi, n_per_class) / 1.0 + 2 * np.pi * k / n_classes
        theta = theta + rng.normal(0, noise, n_per_class)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(n_per_class, k))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def read_npz(path, names, what: str = "file") -> dict:
    """The arrays ``names`` of an ``.npz`` file, loaded with allow_pickle=False (a file
    holding pickled objects is refused; nothing in it runs). ``what`` names the file in
    errors ("dataset file", "input file")."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"{path}: not a plain-array .npz file ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ConfigError(f"{path}: expected an .npz archive with arrays {list(names)}")
    with archive:
        missing = [n for n in names if n not in archive.files]
        if missing:
            raise ConfigError(f"{path}: expected arrays {list(names)}, found "
                              f"{sorted(archive.files)}")
        try:
            return {n: archive[n] for n in names}
        except ValueError as exc:
            raise ConfigError(f"{path}: not a plain-array .npz file ({exc})") from None


def load_npz(path):
    """An ``.npz`` with arrays ``X`` and ``y`` (loaded with allow_pickle=False); y may be
    (m,), (m, 1) or one-hot (m, K) (see :mod:`dlx.data.labels`) and is returned as (m,)."""
    arrays = read_npz(path, ("X", "y"), "dataset file")
    X, y = arrays["X"], arrays["y"]
    if X.shape[0] != y.shape[0]:
        raise ShapeError(f"{path}: X has {X.shape[0]} samples but y has {y.shape[0]}")
    if X.dtype.kind not in "biuf":
        raise ConfigError(f"{path}: X must hold numbers, got dtype {X.dtype}")
    bad = ~np.isfinite(X.reshape(X.shape[0], -1)).all(axis=1)
    if bad.any():
        raise DataError(f"{path}: X holds NaN or infinite values in rows "
                        f"{_first_rows(bad)} (of {X.shape[0]}); clean or drop them first")
    return X.astype(np.float32), class_labels(y, str(path))


def _first_rows(mask) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)[:5]]


def class_labels(y, where: str = "y"):
    """(m,) int64 labels from (m,), (m, 1) or one-hot (m, K) host labels."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise ConfigError(f"{where}: y must hold integer class labels, got dtype {y.dtype}")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(np.nan_to_num(y)))
        if bad.any():
            rows = _first_rows(bad.reshape(len(y), -1).any(axis=1))
            raise LabelError(f"{where}: y must hold integer class labels, got {y.dtype} with "
                             f"non-integer values in rows {rows}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2:
        one_hot = np.all((y == 0) | (y == 1), axis=1) & (y.sum(axis=1) == 1)
        if not one_hot.all():
            raise LabelError(f"{where}: (m, {y.shape[1]}) labels must be one-hot rows (a "
                             f"single 1 per row); rows {_first_rows(~one_hot)} are not")
        y = y.argmax(axis=1)
    elif y.ndim != 1:
        raise ShapeError(f"{where}: y must be (m,), (m, 1) or one-hot (m, K), got shape "
                         f"{y.shape}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise LabelError(f"{where}: class labels must be >= 0; rows {_first_rows(y < 0)} hold "
                         f"{sorted(set(y[y < 0].tolist()))[:5]}")
    return y


def train_dev_test_split(X, y, dev: float = 0.0, test: float = 0.2, seed: int = 0,
                         stratify: bool = True) -> Split:
    """Shuffle with ``seed`` and split into train/dev/test by the given fractions.

    Stratified by label by default, so small classes appear in every part.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ShapeError(f"split: X has {X.shape[0]} samples but y has {y.shape[0]}")
    if not (0 <= dev < 1 and 0 < test < 1 and dev + test < 1):
        raise ConfigError(f"split: need 0 <= dev, 0 < test and dev + test < 1, got {dev}, {test}")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    parts = {"train": [], "dev": [], "test": []}
    for idx in groups:
        idx = rng.permutation(idx)
        n_test, n_dev = int(round(test * len(idx))), int(round(dev * len(idx)))
        parts["test"].append(idx[:n_test])
        parts["dev"].append(idx[n_test:n_test + n_dev])
        parts["train"].append(idx[n_test + n_dev:])
    take = {k: rng.permutation(np.concatenate(v)) for k, v in parts.items()}
    return Split(X[take["train"]], y[take["train"]], X[take["dev"]], y[take["dev"]],
                 X[take["test"]], y[take["test"]])
