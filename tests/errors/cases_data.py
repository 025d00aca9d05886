"""Non-finite data: checked once per data set at fit/evaluate/predict, first rows named."""

import numpy as np

from dlx import nn

from errors.registry import registry

CASES, case = registry()


def _data(bad_row=None, value=np.nan):
    X = np.linspace(-1, 1, 30, dtype=np.float32).reshape(10, 3)
    if bad_row is not None:
        X[bad_row, 1] = value
    return X, np.array([0, 1] * 5)


def _model():
    return nn.Sequential(nn.Dense(3, 1))


@case("fit-x-nan")
def _(tmp_path):
    """`fit` with a NaN in training row 7"""
    _model().fit(_data(7), epochs=1, verbose=False)


@case("fit-x-inf")
def _(tmp_path):
    """`fit` with +inf in training row 2"""
    _model().fit(_data(2, np.inf), epochs=1, verbose=False)


@case("fit-dev-x-nan")
def _(tmp_path):
    """`fit` with a NaN in dev row 4"""
    _model().fit(_data(), _data(4), epochs=1, verbose=False)


@case("fit-y-nan")
def _(tmp_path):
    """`fit(loss="mse")` with a NaN target in row 3"""
    X, _ = _data()
    y = np.zeros(10)
    y[3] = np.nan
    _model().fit((X, y), loss="mse", epochs=1, verbose=False)


@case("evaluate-x-nan")
def _(tmp_path):
    """`evaluate` with a NaN in test row 9"""
    _model().evaluate(_data(9))


@case("predict-x-nan")
def _(tmp_path):
    """`predict` with a NaN in row 0"""
    _model().predict(_data(0)[0])


@case("predict-proba-x-inf")
def _(tmp_path):
    """`predict_proba` with -inf in row 5"""
    _model().predict_proba(_data(5, -np.inf)[0])


@case("npz-x-nan")
def _(tmp_path):
    """`dlx train --dataset FILE.npz` with a NaN in row 11 of X"""
    from dlx.cli import main

    X = np.zeros((30, 4), dtype=np.float32)
    X[11, 2] = np.nan
    np.savez(tmp_path / "data.npz", X=X, y=np.array([0, 1] * 15))
    main(["train", "--model", "logreg", "--dataset", str(tmp_path / "data.npz"), "--epochs",
          "1", "--out", str(tmp_path / "run"), "--quiet", "--debug", "--backend", "numpy"])


@case("standardizer-nan")
def _(tmp_path):
    """`Standardizer.fit` on X with +inf in row 1"""
    from dlx.data import Standardizer

    Standardizer().fit(np.array([[0.0, 1.0], [np.inf, 2.0]]))
