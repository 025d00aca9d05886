"""The Inception module (Szegedy et al. 2014, "Going deeper with convolutions"; course 4 week 2).

Four branches on the same (m, C, H, W) input, each keeping H and W ("same" padding),
joined along the channel axis:

    1x1 conv                          -> c1 channels
    1x1 conv (r3) -> 3x3 conv         -> c3 channels     (the 1x1 "bottleneck" cuts the cost)
    1x1 conv (r5) -> 5x5 conv         -> c5 channels
    3x3 max pool, stride 1 -> 1x1     -> cp channels     (projection keeps the pool's width small)

output (m, c1 + c3 + c5 + cp, H, W). Every convolution is followed by ReLU.
"""

from __future__ import annotations

from dlx.errors import ConfigError
from dlx.functional.concat import concat
from dlx.nn.conv import Conv2D, MaxPool2D
from dlx.nn.layers import Sequential
from dlx.nn.module import Module


class Inception(Module):
    """``Inception(in_channels, c1, (r3, c3), (r5, c5), cp)``; see the module docstring."""

    def __init__(self, in_channels: int, c1: int, c3, c5, cp: int):
        super().__init__()
        try:
            (r3, n3), (r5, n5) = c3, c5
        except (TypeError, ValueError):
            raise ConfigError(f"Inception: c3 and c5 must be (reduce, out) pairs, got {c3!r}, "
                              f"{c5!r}") from None
        c = int(in_channels)
        self.branch1 = Conv2D(c, c1, 1, activation="relu")
        self.branch3 = Sequential(Conv2D(c, r3, 1, activation="relu"),
                                  Conv2D(r3, n3, 3, padding="same", activation="relu"))
        self.branch5 = Sequential(Conv2D(c, r5, 1, activation="relu"),
                                  Conv2D(r5, n5, 5, padding="same", activation="relu"))
        self.branch_pool = Sequential(MaxPool2D(3, stride=1, padding=1),
                                      Conv2D(c, cp, 1, activation="relu"))
        self.out_channels = int(c1) + int(n3) + int(n5) + int(cp)

    def forward(self, x):
        return concat([self.branch1(x), self.branch3(x), self.branch5(x),
                       self.branch_pool(x)], axis=1)

    def __repr__(self):
        return f"Inception(out_channels={self.out_channels})"
