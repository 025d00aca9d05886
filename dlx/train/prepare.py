"""Data preparation for the ``dlx`` command: load a dataset, shape it for the model, split it,
standardise it — and record how, so ``dlx evaluate``/``dlx predict`` repeat it exactly.

Layouts: ``images`` (m, C, H, W) for convolutional models — 2-D inputs whose feature count
is a perfect square are reshaped to (m, 1, s, s), 3-D ones get a channel axis — and
``features`` (m, n) for dense models (images are flattened). Standardisation statistics
come from the training split only: per feature for ``features``, per channel for ``images``.
The split is ``train_dev_test_split`` with fixed fractions and seed, stored in checkpoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np  # host-side data preparation

from dlx.data import load_breast_cancer, load_digits, load_npz, train_dev_test_split
from dlx.data.normalize import Standardizer
from dlx.errors import ConfigError, ShapeError

BUNDLED = {"digits": lambda: load_digits(), "breast-cancer": load_breast_cancer}
SPLIT = {"dev": 0.1, "test": 0.2, "seed": 0}


def load_dataset(spec: str):
    """(X, y) host arrays of a bundled dataset name or an ``.npz`` path with X and y."""
    if spec in BUNDLED:
        return BUNDLED[spec]()
    if not spec.endswith(".npz") and not Path(spec).exists():
        raise ConfigError(f"unknown dataset {spec!r}; expected {', '.join(BUNDLED)} or a path "
                          "to an .npz file with arrays X and y")
    return load_npz(spec)


def dataset_id(spec: str) -> str:
    """How a dataset is recorded in checkpoints: a bundled name or an absolute path."""
    return spec if spec in BUNDLED else str(Path(spec).resolve())


def shape_for(X, layout: str):
    """X reshaped to the layout's (m, C, H, W) or (m, n)."""
    X = np.asarray(X)
    if layout == "features":
        return X.reshape(X.shape[0], -1)
    if X.ndim == 4:
        return X
    if X.ndim == 3:
        return X[:, None]
    side = math.isqrt(X.shape[1]) if X.ndim == 2 else 0
    if X.ndim == 2 and side * side == X.shape[1]:
        return X.reshape(X.shape[0], 1, side, side)
    raise ShapeError(f"a convolutional model needs images (m, C, H, W); got X of shape "
                     f"{X.shape}, which is not a square image per row")


@dataclass
class Preparation:
    """Layout plus fitted standardisation; ``apply`` turns raw X into model input."""

    layout: str
    scaler: Standardizer = field(default_factory=Standardizer)

    @classmethod
    def fit(cls, X_train, layout: str) -> "Preparation":
        axis = 0 if layout == "features" else (0, 2, 3)
        prep = cls(layout, Standardizer(axis=axis))
        prep.scaler.fit(shape_for(X_train, layout))
        return prep

    def apply(self, X):
        return self.scaler.transform(shape_for(X, self.layout))

    def to_checkpoint(self) -> tuple[dict, dict]:
        """(JSON info, arrays) for ``fit(checkpoint_info=..., checkpoint_arrays=...)``."""
        return ({"layout": self.layout, "axis": list(self.scaler.axis)},
                {"norm_mean": self.scaler.mean, "norm_std": self.scaler.std})

    @classmethod
    def from_checkpoint(cls, info: dict, arrays: dict) -> "Preparation":
        try:
            scaler = Standardizer(axis=tuple(info["axis"]))
            scaler.load_state_dict({"mean": arrays["norm_mean"], "std": arrays["norm_std"]})
            return cls(info["layout"], scaler)
        except KeyError as exc:
            raise ConfigError(f"checkpoint lacks the data preparation record ({exc}); it was "
                              "not written by `dlx train`") from None


def split(X, y):
    """The fixed train/dev/test split every ``dlx`` command uses."""
    return train_dev_test_split(X, y, dev=SPLIT["dev"], test=SPLIT["test"], seed=SPLIT["seed"])
