"""Classic architectures of course 4 week 2, scaled to small inputs (8x8 to 64x64).

    vgg((1, 8, 8), 10)            # blocks of [3x3 conv same + ReLU] x n, then 2x2 max pool
    alexnet((3, 32, 32), 10)      # big first filter, overlapping 3x3/2 pools, 3 stacked 3x3s
    inception_net((1, 8, 8), 10)  # stem conv, two Inception modules, global average pool

All return a :class:`dlx.nn.Sequential` producing logits.
"""

from __future__ import annotations

from dlx.errors import ConfigError
from dlx.models.zoo import _image_shape
from dlx.nn import (Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, Inception, MaxPool2D,
                    Sequential)


def vgg(input_shape, n_classes: int, blocks=((16, 2), (32, 2)), hidden=(128,),
        dropout: float = 0.0) -> Sequential:
    """VGG-style ("3x3 conv same, 2x2 max pool, only these two"; Simonyan & Zisserman 2014).

    ``blocks``: (channels, n_convs) per block; each block ends in a 2x2 max pool that halves
    H and W (VGG-16 is ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)) on 224x224).
    Then Flatten, Dense ``hidden`` (ReLU, optional dropout) and the logits."""
    c, h, w = _image_shape("vgg", input_shape)
    layers = []
    for width, n_convs in blocks:
        for _ in range(int(n_convs)):
            layers.append(Conv2D(c, width, 3, padding="same", activation="relu"))
            c = width
        layers.append(MaxPool2D(2))
        h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise ConfigError(f"vgg: input {tuple(input_shape)} is too small for "
                              f"{len(blocks)} pooling blocks")
    return Sequential(*layers, *_dense_head(c * h * w, hidden, n_classes, dropout))


def _dense_head(n_in, hidden, n_classes, dropout):
    layers = [Flatten()]
    for n in hidden:
        layers.append(Dense(n_in, n, "relu"))
        if dropout:
            layers.append(Dropout(dropout))
        n_in = n
    return layers + [Dense(n_in, n_classes)]


def alexnet(input_shape, n_classes: int, widths=(24, 64, 96, 96, 64), first_kernel: int = 5,
            hidden=(128, 128), dropout: float = 0.5) -> Sequential:
    """AlexNet-style (Krizhevsky et al. 2012), scaled down.

    The original on 227x227x3: conv 11x11/4 (96) -> max pool 3x3/2 -> conv 5x5 same (256)
    -> max pool 3x3/2 -> conv 3x3 same (384, 384, 256) -> max pool 3x3/2 -> FC 4096, 4096.
    Here: conv ``first_kernel`` same (widths[0]) -> pool 3x3/2 -> conv 5x5 same (widths[1])
    -> pool 3x3/2 -> three 3x3 same convs (widths[2:]) -> pool 3x3/2 while the map is still
    at least 3x3 -> FC ``hidden`` with dropout -> logits."""
    c, h, w = _image_shape("alexnet", input_shape)
    if len(widths) != 5:
        raise ConfigError(f"alexnet: widths needs 5 entries, got {tuple(widths)}")
    if first_kernel % 2 == 0:
        raise ConfigError(f"alexnet: first_kernel must be odd, got {first_kernel}")
    layers = []

    def pool():
        nonlocal h, w
        if h >= 3 and w >= 3:
            layers.append(MaxPool2D(3, stride=2))
            h, w = (h - 3) // 2 + 1, (w - 3) // 2 + 1

    for i, (width, f) in enumerate(zip(widths, (first_kernel, 5, 3, 3, 3))):
        layers.append(Conv2D(c, width, f, padding="same", activation="relu"))
        c = width
        if i in (0, 1, 4):
            pool()
    return Sequential(*layers, *_dense_head(c * h * w, hidden, n_classes, dropout))


def inception_net(input_shape, n_classes: int, stem: int = 32) -> Sequential:
    """A small Inception network (GoogLeNet's pattern at toy scale):

    conv 3x3 same (stem) -> Inception(16, (16, 24), (4, 8), 8) = 56 channels -> max pool 2
    -> Inception(24, (24, 32), (8, 16), 16) = 88 channels -> global average pool -> logits."""
    c, h, w = _image_shape("inception_net", input_shape)
    if h < 2 or w < 2:
        raise ConfigError(f"inception_net: input {tuple(input_shape)} is too small")
    first = Inception(stem, 16, (16, 24), (4, 8), 8)
    second = Inception(first.out_channels, 24, (24, 32), (8, 16), 16)
    return Sequential(Conv2D(c, stem, 3, padding="same", activation="relu"), first,
                      MaxPool2D(2), second, GlobalAvgPool2D(),
                      Dense(second.out_channels, n_classes))
