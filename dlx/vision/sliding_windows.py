"""The convolutional implementation of sliding windows (Sermanet et al. 2014, OverFeat;
course 4 week 3).

A classifier ``conv/pool layers -> Flatten -> Dense ...`` trained on w x w crops is turned
into a fully convolutional network: the first Dense layer after Flatten, with weight
(n_out, C*h*w), becomes a convolution with n_out filters of size h x w (the same numbers,
reshaped to (n_out, C, h, w)); every later Dense layer becomes a 1x1 convolution. On a
larger image the result is one pass that scores every window at once: output
(m, K, OH, OW), where position (i, j) is the original network on the crop whose top-left
corner is (i * stride, j * stride), stride = the product of the conv/pool strides.
"""

from __future__ import annotations

import math

from dlx import backends
from dlx.core import Tensor, no_grad
from dlx.errors import ConfigError
from dlx.nn import Conv2D, Dense, Dropout, Flatten, Sequential
from dlx.nn.conv import _Pool2D
from dlx.train.loop import model_dtype


def _conv_from_dense(dense: Dense, c: int, h: int, w: int) -> Conv2D:
    conv = Conv2D(c, dense.n_out, (h, w), activation=dense.activation, bias=dense.b is not None)
    conv.W.data = dense.W.data.reshape(dense.n_out, c, h, w).copy()
    if dense.b is not None:
        conv.b.data = dense.b.data.copy()
    return conv


def convolutionalize(model: Sequential, input_shape) -> Sequential:
    """A fully convolutional copy of ``model`` (Sequential: image layers, Flatten, Dense
    layers) trained on inputs of ``input_shape`` = (C, h, w); see the module docstring."""
    layers = list(getattr(model, "layers", []))
    flat = [i for i, layer in enumerate(layers) if isinstance(layer, Flatten)]
    if len(flat) != 1:
        raise ConfigError("convolutionalize: expected a Sequential with exactly one Flatten "
                          f"followed by Dense layers, got {type(model).__name__}")
    body, head = layers[:flat[0]], layers[flat[0] + 1:]
    backend = backends.current()
    with no_grad():
        probe = Tensor(backend.xp.zeros((1,) + tuple(input_shape), dtype=model_dtype(model)))
        for layer in body:
            probe = layer(probe)
    _, c, h, w = probe.shape
    converted, first = [], True
    for layer in head:
        if isinstance(layer, Dense):
            converted.append(_conv_from_dense(layer, c, h, w) if first
                             else _conv_from_dense(layer, layer.n_in, 1, 1))
            first = False
        elif isinstance(layer, Dropout) or not layer.parameters():
            converted.append(layer)  # activations and dropout act per position already
        else:
            raise ConfigError(f"convolutionalize: cannot convert {type(layer).__name__} "
                              "after Flatten")
    return Sequential(*body, *converted)


def window_stride(model: Sequential) -> int:
    """The step in input pixels between neighbouring output positions (conv/pool strides)."""
    strides = [layer.stride[0] for layer in model.layers if isinstance(layer, (Conv2D, _Pool2D))]
    return math.prod(strides)
