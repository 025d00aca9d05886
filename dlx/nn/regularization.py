"""Dropout and batch-normalisation layers."""

from __future__ import annotations

from dlx import backends, init
from dlx.core import Parameter
from dlx.errors import ConfigError, ShapeError
from dlx.functional.dropout import check_keep_prob, dropout
from dlx.functional.normalization import batch_norm
from dlx.nn.module import Module


class Dropout(Module):
    """Inverted dropout keeping each unit with probability ``keep_prob`` (training mode only).

    ``set_mask(mask)`` injects a fixed 0/1 mask (host or device array of the input's shape)
    used by every training-mode call until ``set_mask(None)``; tests use it to compare
    backends exactly.
    """

    def __init__(self, keep_prob: float = 0.5):
        super().__init__()
        self.keep_prob = check_keep_prob(keep_prob, "Dropout")
        self.mask = None

    def set_mask(self, mask) -> None:
        self.mask = mask

    def forward(self, x):
        return dropout(x, self.keep_prob, training=self.training, mask=self.mask)

    def __repr__(self):
        return f"Dropout(keep_prob={self.keep_prob})"


class BatchNorm(Module):
    """Batch normalisation of (m, n) inputs per feature: y = gamma * xhat + beta.

    gamma (ones) and beta (zeros): Parameters of shape (n,). running_mean / running_var:
    buffers updated in training as ``momentum * running + (1 - momentum) * batch`` (the
    course's exponentially weighted average, beta = momentum) and used in evaluation mode.
    Put it between a bias-free ``Dense(..., bias=False)`` and the activation: beta replaces b.
    """

    input_ndim = 2
    layout = "(m, n_features)"

    def __init__(self, n_features: int, momentum: float = 0.9, eps: float = 1e-5, dtype=None):
        super().__init__()
        if int(n_features) <= 0:
            raise ConfigError(f"{type(self).__name__}: n_features must be positive, "
                              f"got {n_features}")
        if not 0.0 <= momentum < 1.0 or not eps > 0:
            raise ConfigError(f"{type(self).__name__}: need 0 <= momentum < 1 and eps > 0, "
                              f"got momentum={momentum}, eps={eps}")
        self.n_features, self.momentum, self.eps = int(n_features), float(momentum), float(eps)
        xp, default = backends.current().xp, backends.current().default_dtype
        self.gamma = Parameter(xp.ones((self.n_features,), dtype=default), name="gamma")
        self.beta = Parameter(init.zeros((self.n_features,)), name="beta")
        self.register_buffer("running_mean", init.zeros((self.n_features,)))
        self.register_buffer("running_var", xp.ones((self.n_features,), dtype=default))
        if dtype is not None:
            self.to(dtype)

    def forward(self, x):
        if x.ndim != self.input_ndim or x.shape[1] != self.n_features:
            raise ShapeError(f"{type(self).__name__}({self.n_features}): expected input "
                             f"{self.layout} with {self.n_features} features on axis 1, got "
                             f"shape {tuple(x.shape)}")
        return batch_norm(x, self.gamma, self.beta, self.running_mean, self.running_var,
                          training=self.training, momentum=self.momentum, eps=self.eps)

    def __repr__(self):
        return f"{type(self).__name__}({self.n_features}, momentum={self.momentum})"


class BatchNorm2D(BatchNorm):
    """Batch normalisation of NCHW images per channel, statistics over (m, H, W)."""

    input_ndim = 4
    layout = "(m, C, H, W)"
