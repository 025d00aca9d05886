"""Multi-task targets with missing labels: masks of the wrong shape or dtype, a mask without
a loss that skips missing labels, labels other than 0/1/NaN, targets that do not fit."""

import numpy as np

import dlx
from dlx.functional import multi_task_cross_entropy
from dlx.models import mlp

from errors.registry import registry

CASES, case = registry()


def _data(m=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, 5))
    Y = (X[:, :3] > 0).astype(np.int64)
    return X, Y, rng.random(Y.shape) > 0.3


def _fit(*data, loss=multi_task_cross_entropy):
    mlp([5, 8, 3]).fit(data, loss=loss, epochs=1, verbose=False)


@case("mt-mask-shape")
def _(tmp_path):
    """`fit` on (X, Y, mask) with a (40, 2) mask for (40, 3) targets"""
    X, Y, mask = _data()
    _fit(X, Y, mask[:, :2])


@case("mt-mask-dtype")
def _(tmp_path):
    """`fit` on (X, Y, mask) with a float64 mask of 0/1"""
    X, Y, mask = _data()
    _fit(X, Y, mask.astype(np.float64))


@case("mt-mask-loss")
def _(tmp_path):
    """`fit` on (X, Y, mask) with the default loss"""
    _fit(*_data(), loss="auto")


@case("mt-loss-mask-dtype")
def _(tmp_path):
    """`multi_task_cross_entropy(z, y, mask)` with an integer mask"""
    X, Y, mask = _data()
    multi_task_cross_entropy(dlx.Tensor(np.zeros((40, 3))), Y.astype(float), mask.astype(int))


@case("mt-label-2")
def _(tmp_path):
    """`fit` with `multi_task_cross_entropy` and a label 2 in row 3"""
    X, Y, mask = _data()
    Y[3, 1] = 2
    _fit(X, Y, mask)


@case("mt-targets-shape")
def _(tmp_path):
    """`fit` with `multi_task_cross_entropy`, (40, 2) targets for 3 outputs"""
    X, Y, _ = _data()
    _fit(X, Y[:, :2].astype(float))


@case("fit-data-four")
def _(tmp_path):
    """`fit` on an (X, y, mask, w) 4-tuple"""
    X, Y, mask = _data()
    _fit(X, Y, mask, mask)
