"""Input normalisation, fitted on the training set and applied unchanged to dev and test.

    x := (x - mu) / sigma,   mu and sigma^2 the training set's mean and variance

(the course's normalising inputs; sigma is the standard deviation). Features with zero
variance (e.g. always-blank pixels) are only centred. Images are scaled to [0, 1] by 255.
Host-side NumPy: this is data preparation before anything reaches the device.
"""

from __future__ import annotations

import numpy as np  # host-side data preparation

from dlx.errors import ConfigError, DataError, ShapeError


def scale_images(X, max_value: float = 255.0, dtype=np.float32):
    """X / max_value as ``dtype`` (uint8 images -> [0, 1])."""
    return (np.asarray(X, dtype=np.float64) / max_value).astype(dtype)


class Standardizer:
    """Fit mean and standard deviation over ``axis`` on training data, then transform.

    axis=0: per feature for (m, n) inputs (per pixel for images); axis=(0, 2, 3): per
    channel for NCHW images.
    """

    def __init__(self, axis=0, eps: float = 1e-8):
        self.axis = (axis,) if isinstance(axis, int) else tuple(axis)
        self.eps = eps
        self.mean = self.std = None

    def fit(self, X) -> "Standardizer":
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 0 or X.shape[0] == 0:
            raise ShapeError(f"Standardizer.fit: need examples on axis 0, got shape {X.shape}")
        bad = ~np.isfinite(X.reshape(X.shape[0], -1)).all(axis=1)
        if bad.any():
            raise DataError(f"Standardizer.fit: X holds NaN or infinite values in rows "
                            f"{np.flatnonzero(bad)[:5].tolist()}; the statistics would be "
                            "NaN for every row")
        self.mean = X.mean(axis=self.axis, keepdims=True)
        std = X.std(axis=self.axis, keepdims=True)
        self.std = np.where(std > self.eps, std, 1.0)
        return self

    def transform(self, X, dtype=np.float32):
        if self.mean is None:
            raise ConfigError("Standardizer: call fit(X_train) before transform")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != self.mean.ndim or any(
                a != b for i, (a, b) in enumerate(zip(X.shape, self.mean.shape))
                if i not in self.axis):
            raise ShapeError(f"Standardizer: statistics of shape {self.mean.shape} do not "
                             f"fit data of shape {X.shape}")
        return ((X - self.mean) / self.std).astype(dtype)

    def fit_transform(self, X, dtype=np.float32):
        return self.fit(X).transform(X, dtype)

    def state_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std}

    def load_state_dict(self, state: dict) -> None:
        self.mean, self.std = np.asarray(state["mean"]), np.asarray(state["std"])
