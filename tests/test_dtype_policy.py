"""One dtype policy: a process-wide default, dtype= on layers and models, model.to(dtype),
integer/bool inputs cast at the model boundary, float dtypes never mixed inside an op."""

from __future__ import annotations

import numpy as np
import pytest

import dlx
import dlx.backends as B
import dlx.functional as F
from dlx import Tensor, nn
from dlx.errors import DtypeError


@pytest.fixture(autouse=True)
def restore_default():
    previous = dlx.get_default_dtype()
    yield
    dlx.set_default_dtype(previous)


def test_set_default_dtype_reaches_every_backend_and_new_parameters(backend):
    assert dlx.get_default_dtype() == "float32"
    assert dlx.set_default_dtype("float64") == "float32"
    assert B.get("numpy").default_dtype == np.float64 and backend.default_dtype == np.float64
    assert nn.Dense(3, 2).W.dtype == np.float64
    assert Tensor([1.0, 2.0]).dtype == np.float64


def test_the_context_manager_restores_the_default(backend):
    with dlx.default_dtype(np.float64) as dtype:
        assert dtype == np.float64 and nn.Conv2D(1, 2, 3).W.dtype == np.float64
    assert dlx.get_default_dtype() == "float32" and nn.Dense(3, 2).W.dtype == np.float32


def test_assigning_backend_default_dtype_is_the_same_switch(backend):
    backend.default_dtype = np.float64
    assert dlx.get_default_dtype() == "float64"


@pytest.mark.parametrize("build", [
    lambda: nn.Dense(3, 2, dtype="float64"),
    lambda: nn.Conv2D(1, 2, 3, dtype="float64"),
    lambda: nn.BatchNorm(3, dtype="float64"),
    lambda: nn.Sequential(nn.Dense(3, 2), nn.BatchNorm(2), dtype="float64"),
    lambda: nn.Sequential(nn.Dense(3, 2)).to("float64"),
])
def test_dtype_on_layers_and_models(backend, build):
    module = build()
    dtypes = {p.dtype for p in module.parameters()} | \
        {b.dtype for _, b in module.named_buffers()}
    assert dtypes == {np.dtype(np.float64)} and module.dtype == np.float64
    assert dlx.get_default_dtype() == "float32"  # the default is untouched


def test_model_to_dtype_then_trains_and_predicts_in_that_dtype(backend):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Dense(3, 4, "relu"), nn.BatchNorm(4), nn.Dropout(0.8),
                          nn.Dense(4, 1)).to("float64")
    model.fit((X, y), epochs=2, verbose=False)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert {b.dtype for _, b in model.named_buffers()} == {np.dtype(np.float64)}
    assert model.predict_proba(X).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_and_bool_inputs_are_cast_to_the_model_dtype(backend, dtype):
    model = nn.Sequential(nn.Dense(3, 2))
    x = np.array([[1, 0, 1], [0, 1, 1]], dtype=dtype)
    out = model(backend.asarray(x))
    assert out.dtype == np.float32
    expected = model(Tensor(backend.asarray(x.astype(np.float32))))
    np.testing.assert_array_equal(backend.to_host(out.data), backend.to_host(expected.data))
    assert F.linear(backend.asarray(x), model[0].W).dtype == np.float32
    assert F.conv2d(backend.asarray(np.ones((1, 1, 3, 3), dtype=dtype)),
                    nn.Conv2D(1, 1, 3).W).dtype == np.float32


def test_integer_operands_of_elementwise_ops_take_the_float_dtype(backend):
    a = Tensor(backend.asarray(np.ones(3, dtype=np.float32)))
    assert (a * Tensor(backend.asarray(np.arange(3)))).dtype == np.float32


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
    lambda a, b: F.maximum(a, b), lambda a, b: a.reshape(3, 1) @ b.reshape(1, 3),
    lambda a, b: F.linear(a.reshape(1, 3), b.reshape(1, 3)),
])
def test_a_float_mix_is_refused_the_same_way_in_every_op(backend, op):
    a = Tensor(backend.asarray(np.ones(3, dtype=np.float32)))
    b = Tensor(backend.asarray(np.ones(3, dtype=np.float64)))
    with pytest.raises(DtypeError, match="operands have different float dtypes float32, "
                                         "float64"):
        op(a, b)
