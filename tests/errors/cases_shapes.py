"""Shapes: targets that do not match outputs, ops whose operands do not fit, empty batches."""

import numpy as np

import dlx
import dlx.functional as F
from dlx import Tensor, nn
from dlx.strategy import metrics

from errors.registry import registry

CASES, case = registry()


def _binary_model():
    return nn.Sequential(nn.Dense(3, 1))


def _three_class_model():
    return nn.Sequential(nn.Dense(3, 3))


@case("bce-target-shape")
def _(tmp_path):
    """`binary_cross_entropy_with_logits` on logits (4, 1) and targets (4, 3)"""
    F.binary_cross_entropy_with_logits(np.zeros((4, 1)), np.zeros((4, 3)))


@case("mse-target-shape")
def _(tmp_path):
    """`mean_squared_error` on predictions (4, 3) and targets (2, 3)"""
    F.mean_squared_error(Tensor(np.zeros((4, 3))), np.zeros((2, 3)))


@case("mse-no-reshape")
def _(tmp_path):
    """`mean_squared_error` on (4, 6) predictions and (4, 2, 3) targets (same size)"""
    F.mean_squared_error(Tensor(np.zeros((4, 6))), np.zeros((4, 2, 3)))


@case("bce-empty")
def _(tmp_path):
    """`binary_cross_entropy` on an empty batch (m = 0)"""
    F.binary_cross_entropy(np.zeros((0, 1)), np.zeros((0, 1)))


@case("ce-empty")
def _(tmp_path):
    """`softmax_cross_entropy` on an empty batch (m = 0)"""
    F.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))


@case("ce-logits-1d")
def _(tmp_path):
    """`softmax_cross_entropy` on 1-D logits"""
    F.softmax_cross_entropy(np.zeros(3), np.zeros(3, dtype=np.int64))


@case("ce-onehot-shape")
def _(tmp_path):
    """`softmax_cross_entropy` on logits (4, 3) and one-hot targets (4, 2)"""
    F.softmax_cross_entropy(np.zeros((4, 3)), np.eye(2)[[0, 1, 0, 1]])


@case("ce-labels-length")
def _(tmp_path):
    """`softmax_cross_entropy` with 2 labels for 4 rows of logits"""
    F.softmax_cross_entropy(np.zeros((4, 3)), np.array([0, 1]))


@case("ce-weight-shape")
def _(tmp_path):
    """`softmax_cross_entropy` with `sample_weight` of the wrong length"""
    F.softmax_cross_entropy(np.zeros((4, 3)), np.array([0, 1, 2, 0]), sample_weight=np.ones(3))


@case("add-broadcast")
def _(tmp_path):
    """`Tensor` (3, 4) + `Tensor` (5,)"""
    Tensor(np.zeros((3, 4))) + Tensor(np.zeros(5))


@case("mul-broadcast")
def _(tmp_path):
    """`Tensor` (4, 1) * `Tensor` (3, 2)"""
    Tensor(np.zeros((4, 1))) * Tensor(np.zeros((3, 2)))


@case("matmul-align")
def _(tmp_path):
    """`Tensor` (2, 3) @ `Tensor` (2, 3)"""
    Tensor(np.zeros((2, 3))) @ Tensor(np.zeros((2, 3)))


@case("dense-features")
def _(tmp_path):
    """`Dense(3, 2)` on an input with 4 features"""
    nn.Dense(3, 2)(Tensor(np.zeros((5, 4), dtype=np.float32)))


@case("conv-empty-batch")
def _(tmp_path):
    """`Conv2D` on a batch of 0 images"""
    nn.Conv2D(1, 2, 3)(Tensor(np.zeros((0, 1, 5, 5), dtype=np.float32)))


@case("conv-not-nchw")
def _(tmp_path):
    """`Conv2D` on a 3-D input (C, H, W) without the batch axis"""
    nn.Conv2D(1, 2, 3)(Tensor(np.zeros((1, 5, 5), dtype=np.float32)))


@case("conv-channels")
def _(tmp_path):
    """`Conv2D(3, ...)` on images with 1 channel"""
    nn.Conv2D(3, 2, 3)(Tensor(np.zeros((2, 1, 5, 5), dtype=np.float32)))


@case("conv-window")
def _(tmp_path):
    """`Conv2D` with a 5x5 filter on 3x3 images (no padding)"""
    nn.Conv2D(1, 2, 5)(Tensor(np.zeros((2, 1, 3, 3), dtype=np.float32)))


@case("backward-grad-shape")
def _(tmp_path):
    """`y.backward(grad)` with a gradient of another shape than y"""
    x = Tensor(np.ones(3), requires_grad=True)
    (x * 2).backward(np.ones(4))


@case("backward-not-scalar")
def _(tmp_path):
    """`y.backward()` without a gradient on a tensor of 3 elements"""
    x = Tensor(np.ones(3), requires_grad=True)
    (x * 2).backward()


@case("item-not-scalar")
def _(tmp_path):
    """`Tensor.item()` on a tensor of 3 elements"""
    Tensor(np.ones(3)).item()


@case("fit-target-shape")
def _(tmp_path):
    """`fit` of a 3-output model with (m, 2) targets"""
    X = np.zeros((6, 3), dtype=np.float32)
    _three_class_model().fit((X, np.zeros((6, 2), dtype=np.int64)), epochs=1, verbose=False)


@case("fit-onehot-binary-model")
def _(tmp_path):
    """`fit` of a one-output (binary) model with one-hot (m, 2) labels"""
    X = np.zeros((6, 3), dtype=np.float32)
    y = np.eye(2, dtype=np.int64)[[0, 1, 0, 1, 0, 1]]
    _binary_model().fit((X, y), epochs=1, verbose=False)


@case("fit-regression-shape")
def _(tmp_path):
    """`fit(loss="mse")` of a one-output model with (m, 3) float targets"""
    X = np.zeros((6, 3), dtype=np.float32)
    _binary_model().fit((X, np.zeros((6, 3))), loss="mse", epochs=1, verbose=False)


@case("fit-xy-length")
def _(tmp_path):
    """`fit` with 6 rows of X and 5 labels"""
    _binary_model().fit((np.zeros((6, 3)), np.zeros(5, dtype=np.int64)), epochs=1,
                        verbose=False)


@case("evaluate-empty")
def _(tmp_path):
    """`evaluate` on a data set of 0 rows"""
    _binary_model().evaluate((np.zeros((0, 3)), np.zeros(0, dtype=np.int64)))


@case("predict-empty")
def _(tmp_path):
    """`predict` on X with 0 rows"""
    _binary_model().predict(np.zeros((0, 3)))


@case("metric-shapes")
def _(tmp_path):
    """`metrics.accuracy` of (m, 2) labels against (m,) predictions"""
    metrics.accuracy(np.zeros((4, 2), dtype=np.int64), np.zeros(4, dtype=np.int64))


@case("metric-lengths")
def _(tmp_path):
    """`metrics.precision_recall_f1` of 4 labels against 3 predictions"""
    metrics.precision_recall_f1(np.zeros(4, dtype=np.int64), np.zeros(3, dtype=np.int64))


@case("batches-empty")
def _(tmp_path):
    """`MiniBatches` over an empty array"""
    dlx.data.MiniBatches(np.zeros((0, 3)))
