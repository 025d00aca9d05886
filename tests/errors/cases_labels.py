"""Labels and targets: out of range, not 0/1, not one-hot, probabilities outside [0, 1]."""

import numpy as np

import dlx.functional as F
from dlx import nn
from dlx.cli import main

from errors.registry import registry

CASES, case = registry()

Z3 = np.zeros((4, 3))
X = np.linspace(-1, 1, 18, dtype=np.float32).reshape(6, 3)


def _fit(n_out, y, **kwargs):
    nn.Sequential(nn.Dense(3, n_out)).fit((X, y), epochs=1, verbose=False, **kwargs)


@case("ce-label-k")
def _(tmp_path):
    """`softmax_cross_entropy` with label 3 for K = 3 classes"""
    F.softmax_cross_entropy(Z3, np.array([0, 1, 3, 2]))


@case("ce-label-neg1")
def _(tmp_path):
    """`softmax_cross_entropy` with label -1"""
    F.softmax_cross_entropy(Z3, np.array([0, -1, 1, 2]))


@case("ce-label-minus100")
def _(tmp_path):
    """`softmax_cross_entropy` with label -100 and no `ignore_index` given"""
    F.softmax_cross_entropy(Z3, np.array([0, -100, 1, 2]))


@case("ce-ignore-other")
def _(tmp_path):
    """`softmax_cross_entropy(..., ignore_index=-100)` with label -1"""
    F.softmax_cross_entropy(Z3, np.array([0, -1, 1, 2]), ignore_index=-100)


@case("ce-label-float")
def _(tmp_path):
    """`softmax_cross_entropy` with float labels (m,)"""
    F.softmax_cross_entropy(Z3, np.array([0.5, 1, 2, 0]))


@case("ce-rows-not-distributions")
def _(tmp_path):
    """`softmax_cross_entropy` with (m, K) targets whose rows do not sum to 1"""
    F.softmax_cross_entropy(Z3, np.ones((4, 3)))


@case("ce-rows-negative")
def _(tmp_path):
    """`softmax_cross_entropy` with (m, K) targets holding a negative entry"""
    F.softmax_cross_entropy(Z3, np.array([[1.5, -0.5, 0]] * 4))


@case("bce-label-2")
def _(tmp_path):
    """`binary_cross_entropy_with_logits` with target 2"""
    F.binary_cross_entropy_with_logits(np.zeros(4), np.array([0, 1, 2, 1]))


@case("bce-label-neg1")
def _(tmp_path):
    """`binary_cross_entropy_with_logits` with target -1"""
    F.binary_cross_entropy_with_logits(np.zeros(4), np.array([0, -1, 1, 1]))


@case("bce-label-nan")
def _(tmp_path):
    """`binary_cross_entropy` with a NaN target"""
    F.binary_cross_entropy(np.full(4, 0.5), np.array([0, np.nan, 1, 1]))


@case("bce-prob-above-1")
def _(tmp_path):
    """`binary_cross_entropy` with a predicted probability of 1.5"""
    F.binary_cross_entropy(np.array([0.2, 1.5, 0.5, 0.5]), np.array([0, 1, 1, 0]))


@case("bce-prob-negative")
def _(tmp_path):
    """`binary_cross_entropy` with a predicted probability of -0.1"""
    F.binary_cross_entropy(np.array([0.2, -0.1, 0.5, 0.5]), np.array([0, 1, 1, 0]))


@case("ce-prob-above-1")
def _(tmp_path):
    """`cross_entropy` (probabilities) with an entry of 2"""
    F.cross_entropy(np.array([[2.0, 0, 0], [0.5, 0.5, 0]]), np.array([0, 1]))


@case("mse-target-nan")
def _(tmp_path):
    """`mean_squared_error` with a NaN target"""
    F.mean_squared_error(np.zeros(3), np.array([0, np.nan, 1]))


@case("fit-label-k")
def _(tmp_path):
    """`fit` of a 3-output model with label 3"""
    _fit(3, np.array([0, 1, 2, 3, 0, 1]))


@case("fit-label-neg1")
def _(tmp_path):
    """`fit` of a 3-output model with label -1"""
    _fit(3, np.array([0, 1, 2, -1, 0, 1]))


@case("fit-label-minus100")
def _(tmp_path):
    """`fit` with label -100 (no ignore index exists in `fit`)"""
    _fit(3, np.array([0, 1, 2, -100, 0, 1]))


@case("fit-binary-label-2")
def _(tmp_path):
    """`fit` of a one-output (binary) model with label 2"""
    _fit(1, np.array([0, 1, 2, 1, 0, 1]))


@case("fit-onehot-rows")
def _(tmp_path):
    """`fit` of a 3-output model with integer (m, 3) rows that are not one-hot"""
    _fit(3, np.ones((6, 3), dtype=np.int64))


@case("fit-soft-onehot-auto")
def _(tmp_path):
    """`fit(loss="auto")` of a 3-output model with integer-valued (m, 3) rows summing to 2"""
    _fit(3, np.array([[1, 1, 0]] * 6, dtype=np.int64))


@case("fit-bce-soft-range")
def _(tmp_path):
    """`fit(loss="binary_cross_entropy")` with a soft label of 1.5"""
    _fit(1, np.array([0, 0.5, 1.5, 1, 0, 1]), loss="binary_cross_entropy")


@case("fit-ce-regression-targets")
def _(tmp_path):
    """`fit(loss="softmax_cross_entropy")` of a one-output model with float targets 0.3"""
    _fit(1, np.full(6, 0.3), loss="softmax_cross_entropy")


@case("fit-unknown-loss")
def _(tmp_path):
    """`fit(loss="hinge")`"""
    _fit(1, np.array([0, 1, 0, 1, 0, 1]), loss="hinge")


def _train_on(tmp_path, y):
    np.savez(tmp_path / "data.npz", X=np.zeros((len(y), 4), dtype=np.float32), y=y)
    code = main(["train", "--model", "logreg", "--dataset", str(tmp_path / "data.npz"),
                 "--epochs", "1", "--out", str(tmp_path / "run"), "--quiet", "--debug",
                 "--backend", "numpy"])
    raise AssertionError(f"dlx train accepted the labels (exit status {code})")


@case("npz-labels-fractional")
def _(tmp_path):
    """`dlx train --dataset FILE.npz` with y = 0.5 in one row"""
    _train_on(tmp_path, np.array([0, 1, 0.5, 1, 0, 1] * 5))


@case("npz-labels-negative")
def _(tmp_path):
    """`dlx train --dataset FILE.npz` with label -100"""
    _train_on(tmp_path, np.array([0, 1, -100, 1, 0, 1] * 5))


@case("npz-labels-not-onehot")
def _(tmp_path):
    """`dlx train --dataset FILE.npz` with (m, 3) labels that are not one-hot"""
    _train_on(tmp_path, np.ones((30, 3), dtype=np.int64))


@case("npz-labels-3d")
def _(tmp_path):
    """`dlx train --dataset FILE.npz` with labels of shape (m, 2, 2)"""
    _train_on(tmp_path, np.zeros((30, 2, 2), dtype=np.int64))


@case("confusion-negative")
def _(tmp_path):
    """`metrics.confusion_matrix` with label -1"""
    from dlx.strategy import metrics

    metrics.confusion_matrix(np.array([0, -1, 1]), np.array([0, 1, 1]))
