"""Convolution, pooling and flattening layers for NCHW images.

    Conv2D(n_C_prev, n_C, f, stride=1, padding=0)   W: (n_C, n_C_prev, f, f), b: (n_C,)
    MaxPool2D(f, stride=None, padding=0)            stride defaults to f
    AvgPool2D(f, stride=None, padding=0)
    GlobalAvgPool2D()                               (m, C, H, W) -> (m, C)
    Flatten()                                       (m, C, H, W) -> (m, C*H*W)

A 1x1 convolution is ``Conv2D(n_C_prev, n_C, 1)``. Output sizes follow
floor((n + 2p - f) / s) + 1; ``padding="same"`` / ``"valid"`` as the course defines them.
"""

from __future__ import annotations

from dlx import init
from dlx.backends import as_pair
from dlx.core import Parameter
from dlx.errors import ConfigError
from dlx.functional.conv import conv2d, conv_padding
from dlx.functional.pooling import (avg_pool2d, flatten, global_avg_pool2d, max_pool2d,
                                    pool_geometry)
from dlx.nn.layers import _activation_fn
from dlx.nn.module import Module


class Conv2D(Module):
    """A = g(conv(X, W) + b) on (m, n_C_prev, H, W) input, giving (m, n_C, OH, OW).

    ``kernel_size``: f or (fh, fw). ``stride``: s or (sh, sw). ``padding``: p, (ph, pw),
    "valid" or "same". ``activation``: None (linear) or a name as in Dense. ``init_method``:
    "he" by default (fan_in = n_C_prev * fh * fw), or any name of :mod:`dlx.init`.
    ``bias=False`` drops b (e.g. before batch norm, whose beta replaces it). ``l2``
    overrides the model-wide L2 strength for this layer's W. ``dtype``: the parameters'
    float dtype (default: ``dlx.get_default_dtype()``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 activation=None, init_method="he", bias: bool = True,
                 l2: float | None = None, dtype=None):
        super().__init__()
        if int(in_channels) <= 0 or int(out_channels) <= 0:
            raise ConfigError(f"Conv2D: in_channels and out_channels must be positive, got "
                              f"{in_channels}, {out_channels}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = as_pair(kernel_size, "Conv2D kernel_size")
        if min(self.kernel_size) < 1:
            raise ConfigError(f"Conv2D: kernel_size must be >= 1, got {kernel_size}")
        self.stride = as_pair(stride, "Conv2D stride")
        if min(self.stride) < 1:
            raise ConfigError(f"Conv2D: stride must be >= 1, got {stride}")
        self.padding = conv_padding(padding, self.kernel_size, "Conv2D")
        self.activation = activation if isinstance(activation, str) or activation is None \
            else getattr(activation, "__name__", "custom")
        self._g = _activation_fn(activation)
        initialiser = init.get(init_method, self.activation)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.W = Parameter(initialiser(shape), name="W")
        self.b = Parameter(init.zeros((self.out_channels,)), name="b") if bias else None
        self.l2 = l2
        if dtype is not None:
            self.to(dtype)

    def forward(self, x):
        return self.forward_parts(x)[1]

    def forward_parts(self, x):
        """(Z, A): the convolution Z = conv(X, W) + b and the output A = g(Z)."""
        z = conv2d(x, self.W, self.b, self.stride, self.padding)
        return z, self._g(z)

    def __repr__(self):
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size="
                f"{self.kernel_size}, stride={self.stride}, padding={self.padding}"
                + (f", activation={self.activation!r}" if self.activation else "") + ")")


class _Pool2D(Module):
    pool = staticmethod(max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = pool_geometry(
            type(self).__name__, kernel_size, stride, padding)

    def forward(self, x):
        return self.pool(x, self.kernel_size, self.stride, self.padding)

    def __repr__(self):
        return (f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding})")


class MaxPool2D(_Pool2D):
    """Max over each f x f window (stride f by default): (m, C, H, W) -> (m, C, OH, OW)."""

    pool = staticmethod(max_pool2d)


class AvgPool2D(_Pool2D):
    """Mean over each f x f window (stride f by default; zero padding counts in the mean)."""

    pool = staticmethod(avg_pool2d)


class GlobalAvgPool2D(Module):
    """(m, C, H, W) -> (m, C): each channel's mean over all positions."""

    def forward(self, x):
        return global_avg_pool2d(x)


class Flatten(Module):
    """(m, C, H, W) -> (m, C*H*W), to feed convolution features into Dense layers."""

    def forward(self, x):
        return flatten(x)
