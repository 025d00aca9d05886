"""Inputs: array-likes converted (pandas via to_numpy), Parameter copies its array, and the
autodiff fixes (1-D matmul backward, backward with a list gradient)."""

from __future__ import annotations

import numpy as np
import pytest

import dlx.backends as B
from dlx import Parameter, Tensor, nn
from dlx.gradcheck import gradient_check
from dlx.optim import GradientDescent


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


@pytest.mark.parametrize("where", ["X", "y"])
def test_pandas_frames_and_series_are_read_through_to_numpy(backend, where):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    series = pd.Series(y, name="label")
    data = (frame, y) if where == "X" else (X, series)
    backend.seed(0)
    model = nn.Sequential(nn.Dense(3, 1))
    history = model.fit(data, epochs=3, verbose=False)
    backend.seed(0)
    reference = nn.Sequential(nn.Dense(3, 1))
    expected = reference.fit((X, y), epochs=3, verbose=False)
    assert history["cost"] == expected["cost"]
    np.testing.assert_array_equal(model.predict(frame), reference.predict(X))


def test_a_pandas_frame_is_not_taken_for_a_cupy_array():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    assert hasattr(frame, "get")  # what the old "is it CuPy?" test looked at
    np.testing.assert_array_equal(B.get("numpy").asarray(frame), [[1.0], [2.0]])


def test_parameter_copies_the_callers_array(backend):
    mine = np.ones(3, dtype=np.float32)
    p = Parameter(backend.asarray(mine) if backend.name == "numpy" else mine)
    p.grad = backend.xp.ones(3, dtype=np.float32)
    GradientDescent([p], lr=0.5).step()
    np.testing.assert_array_equal(mine, np.ones(3))
    np.testing.assert_array_equal(backend.to_host(p.data), np.full(3, 0.5))


def test_matmul_of_two_vectors_backpropagates(backend):
    a = Tensor(backend.asarray(np.array([1.0, -2.0, 3.0])), requires_grad=True)
    b = Tensor(backend.asarray(np.array([0.5, 4.0, -1.0])), requires_grad=True)
    (a @ a).backward()
    np.testing.assert_allclose(backend.to_host(a.grad), [2.0, -4.0, 6.0])
    assert gradient_check(lambda: a @ b, [a, b]) < 1e-7


def test_backward_takes_a_list_gradient(backend):
    x = Tensor(backend.asarray(np.array([[1.0, 2.0], [3.0, 4.0]])), requires_grad=True)
    (x * x).backward(grad=[[1, 0], [0, 1]])
    np.testing.assert_allclose(backend.to_host(x.grad), [[2.0, 0.0], [0.0, 8.0]])
