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
from dlx.errors import CheckpointError, ConfigError, ShapeError

LAYOUTS = ("features", "images")
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
    def from_checkpoint(cls, info: dict, arrays: dict, input_shape=None) -> "Preparation":
        """The preparation a checkpoint records; with the model's ``input_shape``, the
        statistics must have exactly the shape it implies (no broadcasting) and std > 0."""
        try:
            layout, axis = info["layout"], info["axis"]
            mean, std = arrays["norm_mean"], arrays["norm_std"]
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"checkpoint lacks the data preparation record ({exc!r}); it was "
                              "not written by `dlx train`") from None
        if layout not in LAYOUTS or not isinstance(axis, list) or \
                any(not isinstance(a, int) or isinstance(a, bool) for a in axis):
            raise CheckpointError(f"checkpoint preparation record: layout must be one of "
                                  f"{LAYOUTS} and axis a list of ints, got {layout!r}, {axis!r}")
        if input_shape is not None:
            full = (1, *input_shape)
            want = tuple(1 if i in axis else n for i, n in enumerate(full))
            for name, value in (("norm_mean", mean), ("norm_std", std)):
                if value.shape != want:
                    raise CheckpointError(f"checkpoint member 'extra/{name}' has shape "
                                          f"{value.shape}; a model with input shape "
                                          f"{tuple(input_shape)} needs {want}")
        if not np.all(std > 0):
            raise CheckpointError("checkpoint member 'extra/norm_std' holds values <= 0; "
                                  "expected standard deviations > 0")
        scaler = Standardizer(axis=tuple(axis))
        scaler.load_state_dict({"mean": mean, "std": std})
        return cls(layout, scaler)


def split(X, y):
    """The fixed train/dev/test split every ``dlx`` command uses; each part must hold at
    least one example."""
    parts = train_dev_test_split(X, y, dev=SPLIT["dev"], test=SPLIT["test"], seed=SPLIT["seed"])
    sizes = {"train": len(parts.y_train), "dev": len(parts.y_dev), "test": len(parts.y_test)}
    if min(sizes.values()) == 0:
        raise ConfigError(f"dataset of {len(y)} examples is too small: the train/dev/test split "
                          f"({1 - SPLIT['dev'] - SPLIT['test']:.0%}/{SPLIT['dev']:.0%}/"
                          f"{SPLIT['test']:.0%}) leaves "
                          + ", ".join(f"{k} {v}" for k, v in sizes.items())
                          + "; every part needs at least one example")
    return parts
