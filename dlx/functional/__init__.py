"""Differentiable ops as functions of Tensors (each a small Function class underneath)."""

from dlx.functional.activations import (ACTIVATIONS, identity, leaky_relu, linear, log_softmax,
                                        relu, sigmoid, softmax, tanh)
from dlx.functional.losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                   mean_squared_error, softmax_cross_entropy)
from dlx.functional.math import (add, broadcast_to, clip, div, exp, getitem, log, matmul,
                                 maximum, mean, mul, neg, power, reshape, sub, sum, sum_to,
                                 transpose)
from dlx.functional.dropout import dropout, dropout_mask
from dlx.functional.normalization import batch_norm

__all__ = [
    "ACTIVATIONS", "add", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "broadcast_to", "clip", "div", "exp", "getitem", "identity", "leaky_relu", "linear", "log",
    "log_softmax", "matmul", "maximum", "mean", "mean_squared_error", "mul", "neg", "power",
    "relu", "reshape", "sigmoid", "softmax", "softmax_cross_entropy", "sub", "sum", "sum_to",
    "tanh", "transpose",
]
__all__ += ["batch_norm", "dropout", "dropout_mask"]
from dlx.functional.conv import conv2d
from dlx.functional.pooling import avg_pool2d, flatten, global_avg_pool2d, max_pool2d

__all__ += ["avg_pool2d", "conv2d", "flatten", "global_avg_pool2d", "max_pool2d"]
from dlx.functional.concat import concat, stack

__all__ += ["concat", "stack"]
