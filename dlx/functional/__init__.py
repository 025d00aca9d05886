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
from dlx.functional.padding import pad

__all__ += ["pad"]
from dlx.functional.multitask import multi_task_cross_entropy

__all__ += ["multi_task_cross_entropy"]
from dlx.functional.losses import cross_entropy
from dlx.functional.targets import trusted_targets

__all__ += ["cross_entropy", "trusted_targets"]
from dlx.functional.concat import concat, stack
from dlx.functional.recurrent import recurrent_sequence

__all__ += ["concat", "recurrent_sequence", "stack"]
from dlx.functional.embedding import embedding

__all__ += ["embedding"]
