"""Model builders: logistic regression, MLP, a small CNN, LeNet-5 and a small ResNet.

Every builder returns a :class:`dlx.nn.Sequential` that outputs logits (no final softmax or
sigmoid: the losses apply it, stably). ``input_shape`` excludes the batch axis: (n_x,) for
feature vectors, (C, H, W) for images.

    build_model("lenet5", (1, 32, 32), 10)             # by name, as the CLI does
    lenet5((1, 32, 32), 10, modern=False)              # the 1998 choices: tanh + avg pooling
    resnet((1, 8, 8), 10)                              # 9 convolutions, 3 residual blocks
    mlp([64, 32, 10], "relu")                          # layer_dims as the course writes them
"""

from __future__ import annotations

import math

from dlx.backends import conv_output_size
from dlx.errors import ConfigError
from dlx.nn import (Activation, AvgPool2D, BatchNorm2D, Conv2D, Dense, Flatten,
                    GlobalAvgPool2D, MaxPool2D, ResidualBlock, Sequential)


def _image_shape(name, input_shape):
    if len(input_shape) != 3:
        raise ConfigError(f"{name}: needs image input_shape (C, H, W), got {tuple(input_shape)}"
                          "; load images (e.g. load_digits(images=True))")
    return tuple(int(s) for s in input_shape)


def logreg(input_shape, n_classes: int = 2) -> Sequential:
    """Logistic regression: one logit for 2 classes, else softmax regression (K logits)."""
    n_x = math.prod(input_shape)
    head = Dense(n_x, 1 if n_classes == 2 else n_classes)
    return Sequential(Flatten(), head) if len(input_shape) > 1 else Sequential(head)


def mlp(layer_dims, activation="relu") -> Sequential:
    """Dense layers of sizes ``layer_dims`` = [n_x, n_1, ..., n_L] (the course's list).

    Hidden layers use ``activation``; the last layer is linear (logits).
    """
    dims = [int(d) for d in layer_dims]
    if len(dims) < 2 or min(dims) < 1:
        raise ConfigError(f"mlp: layer_dims needs at least [n_x, n_out] of positive sizes, "
                          f"got {list(layer_dims)}")
    layers = [Dense(a, b, activation) for a, b in zip(dims[:-2], dims[1:-1])]
    layers.append(Dense(dims[-2], dims[-1]))
    return Sequential(*layers)


def _mlp_for(input_shape, n_classes, hidden=(64,), activation="relu") -> Sequential:
    model = mlp([math.prod(input_shape), *hidden, n_classes], activation)
    return Sequential(Flatten(), *model.layers) if len(input_shape) > 1 else model


def cnn(input_shape, n_classes: int, channels=(16, 32), hidden: int = 64) -> Sequential:
    """A small CNN: [Conv 3x3 same + ReLU] per entry of ``channels``, 2x2 max pooling after
    every second convolution (and after the last), then Dense(hidden, ReLU) and the logits."""
    c, h, w = _image_shape("cnn", input_shape)
    layers = []
    for i, out in enumerate(channels):
        layers.append(Conv2D(c, out, 3, padding="same", activation="relu"))
        c = out
        if i % 2 == 1 or i == len(channels) - 1:
            layers.append(MaxPool2D(2))
            h, w = h // 2, w // 2
    if h < 1 or w < 1:
        raise ConfigError(f"cnn: input {input_shape} is too small for {len(channels)} "
                          "convolutions with pooling")
    layers += [Flatten(), Dense(c * h * w, hidden, "relu"), Dense(hidden, n_classes)]
    return Sequential(*layers)


def lenet5(input_shape=(1, 32, 32), n_classes: int = 10, modern: bool = True) -> Sequential:
    """LeNet-5 as the course draws it (32x32x1 input):

        conv 5x5, 6 filters  -> 28x28x6  -> pool 2x2 s2 -> 14x14x6
        conv 5x5, 16 filters -> 10x10x16 -> pool 2x2 s2 -> 5x5x16
        FC 120 -> FC 84 -> n_classes logits (softmax in the loss)

    ``modern=True``: ReLU and max pooling; ``modern=False``: tanh and average pooling (1998).
    Inputs smaller than 32x32 (e.g. 28x28) get the missing border as zero padding on the
    first convolution, so the rest of the network is unchanged.
    """
    c, h, w = _image_shape("lenet5", input_shape)
    act, pool = ("relu", MaxPool2D) if modern else ("tanh", AvgPool2D)
    pad = (max(0, (32 - h + 1) // 2), max(0, (32 - w + 1) // 2))
    h1, w1 = conv_output_size(h, 5, 1, pad[0]) // 2, conv_output_size(w, 5, 1, pad[1]) // 2
    h2, w2 = (h1 - 4) // 2, (w1 - 4) // 2
    if h2 < 1 or w2 < 1:
        raise ConfigError(f"lenet5: input {input_shape} is too small")
    return Sequential(
        Conv2D(c, 6, 5, padding=pad, activation=act), pool(2),
        Conv2D(6, 16, 5, activation=act), pool(2),
        Flatten(),
        Dense(16 * h2 * w2, 120, act), Dense(120, 84, act), Dense(84, n_classes))


def resnet(input_shape, n_classes: int, widths=(16, 32, 64), blocks_per_stage: int = 1,
           batch_norm: bool = True) -> Sequential:
    """A small ResNet for 8x8 to 32x32 images.

    stem: Conv 3x3 (widths[0]) + BatchNorm2D + ReLU; then one stage per width, each of
    ``blocks_per_stage`` :class:`ResidualBlock` s, the first block of every later stage
    halving H and W (stride 2, projection shortcut); global average pooling; Dense logits.
    The default has 1 + 2*3 convolutions on the main path plus 2 projection convolutions.
    """
    c, h, w = _image_shape("resnet", input_shape)
    if not widths or blocks_per_stage < 1:
        raise ConfigError(f"resnet: need at least one width and one block per stage, got "
                          f"widths={widths}, blocks_per_stage={blocks_per_stage}")
    layers = [Conv2D(c, widths[0], 3, padding=1, bias=not batch_norm)]
    if batch_norm:
        layers.append(BatchNorm2D(widths[0]))
    layers.append(Activation("relu"))
    c = widths[0]
    for stage, width in enumerate(widths):
        for block in range(blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(ResidualBlock(c, width, stride, batch_norm))
            c = width
    layers += [GlobalAvgPool2D(), Dense(c, n_classes)]
    return Sequential(*layers)


#: builders by the names the CLI uses; each takes (input_shape, n_classes, **options)
MODELS = {"logreg": logreg, "mlp": _mlp_for, "cnn": cnn, "lenet5": lenet5, "resnet": resnet}


def build_model(name: str, input_shape, n_classes: int, **kw) -> Sequential:
    """Build the model called ``name`` (see :data:`MODELS`) for ``input_shape`` (no batch
    axis) and ``n_classes``; ``kw`` go to the builder (e.g. hidden=(128, 64) for "mlp").
    The model's ``config`` records these arguments (JSON) for checkpoints."""
    key = str(name).lower()
    if key not in MODELS:
        raise ConfigError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")
    try:
        model = MODELS[key](tuple(input_shape), int(n_classes), **kw)
    except TypeError as exc:
        raise ConfigError(f"model {key!r}: {exc}") from None
    # what a checkpoint stores so `dlx evaluate` / load_checkpoint can rebuild the model
    model.config = {"name": key, "input_shape": [int(s) for s in input_shape],
                    "n_classes": int(n_classes), "kwargs": dict(kw)}
    return model
