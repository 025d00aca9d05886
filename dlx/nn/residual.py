"""Residual connections: a[l+2] = g(z[l+2] + a[l]) (the course's ResNet "skip connection").

``Residual(main, shortcut=None, activation="relu")`` is the general form: any module as the
main path, any module (or the identity) as the shortcut, the two added and passed through
the activation. The graph branches at the input and joins at the sum; autodiff adds the two
gradients that flow back into x, so no special backward is needed.

``ResidualBlock(in_channels, out_channels, stride=1)`` is the basic ResNet block:

    main:     Conv2D 3x3 (stride s) -> BatchNorm2D -> ReLU -> Conv2D 3x3 -> BatchNorm2D
    shortcut: identity                       when s == 1 and in_channels == out_channels
              Conv2D 1x1 (stride s) -> BatchNorm2D   otherwise (the projection shortcut W_s)
    output:   ReLU(main(x) + shortcut(x))

``batch_norm=False`` drops the batch-norm layers (the convolutions then keep their bias).
"""

from __future__ import annotations

from dlx.errors import ConfigError
from dlx.nn.conv import Conv2D
from dlx.nn.layers import Activation, Sequential, _activation_fn
from dlx.nn.module import Module
from dlx.nn.regularization import BatchNorm2D


class Residual(Module):
    """y = g(main(x) + shortcut(x)); ``shortcut=None`` is the identity."""

    def __init__(self, main: Module, shortcut: Module | None = None, activation="relu"):
        super().__init__()
        for name, part in (("main", main), ("shortcut", shortcut)):
            if part is not None and not isinstance(part, Module):
                raise ConfigError(f"Residual: {name} must be a Module, got "
                                  f"{type(part).__name__}")
        self.main, self.shortcut = main, shortcut
        self.activation = activation
        self._g = _activation_fn(activation)

    def forward(self, x):
        skip = x if self.shortcut is None else self.shortcut(x)
        return self._g(self.main(x) + skip)


def _conv_bn(in_channels, out_channels, kernel_size, stride, batch_norm, activation=None):
    """Conv2D (bias only without batch norm), then BatchNorm2D, then the activation."""
    padding = (kernel_size - 1) // 2
    layers = [Conv2D(in_channels, out_channels, kernel_size, stride, padding,
                     bias=not batch_norm)]
    if batch_norm:
        layers.append(BatchNorm2D(out_channels))
    if activation is not None:
        layers.append(Activation(activation))
    return layers


class ResidualBlock(Residual):
    """The basic ResNet block (two 3x3 convolutions); see the module docstring."""

    def __init__(self, in_channels: int, out_channels: int, stride=1, batch_norm: bool = True):
        s = int(stride)
        main = Sequential(*_conv_bn(in_channels, out_channels, 3, s, batch_norm, "relu"),
                          *_conv_bn(out_channels, out_channels, 3, 1, batch_norm))
        shortcut = None
        if s != 1 or in_channels != out_channels:
            shortcut = Sequential(*_conv_bn(in_channels, out_channels, 1, s, batch_norm))
        super().__init__(main, shortcut, "relu")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, s

    def __repr__(self):
        kind = "identity" if self.shortcut is None else "projection"
        return (f"ResidualBlock({self.in_channels}, {self.out_channels}, stride={self.stride}, "
                f"shortcut={kind})")
