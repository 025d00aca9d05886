"""Dtypes: one default, never mixed inside an op; only real numbers are data."""

import numpy as np

import dlx
import dlx.functional as F
from dlx import Tensor, nn

from errors.registry import registry

CASES, case = registry()


@case("op-float-mix")
def _(tmp_path):
    """`Tensor` float32 + `Tensor` float64"""
    Tensor(np.ones(3, dtype=np.float32)) + Tensor(np.ones(3))


@case("dense-float-mix")
def _(tmp_path):
    """a float32 `Dense` on a float64 `Tensor`"""
    nn.Dense(3, 2)(Tensor(np.ones((2, 3))))


@case("conv-float-mix")
def _(tmp_path):
    """a float32 `Conv2D` on a float64 `Tensor`"""
    nn.Conv2D(1, 2, 3)(Tensor(np.ones((1, 1, 4, 4))))


@case("matmul-float-mix")
def _(tmp_path):
    """`F.matmul` of float16 and float32 tensors"""
    F.matmul(Tensor(np.ones((2, 2), dtype=np.float16)), Tensor(np.ones((2, 2), np.float32)))


@case("tensor-complex")
def _(tmp_path):
    """`Tensor` of a complex array"""
    Tensor(np.ones(3, dtype=complex))


@case("tensor-object")
def _(tmp_path):
    """`Tensor` of an object array"""
    Tensor(np.array([1, "a"], dtype=object))


@case("model-complex-input")
def _(tmp_path):
    """`model.predict` on complex X"""
    nn.Sequential(nn.Dense(2, 1)).predict(np.ones((3, 2), dtype=complex))


@case("fit-string-input")
def _(tmp_path):
    """`fit` on X of strings"""
    nn.Sequential(nn.Dense(2, 1)).fit((np.array([["a", "b"]] * 4), np.array([0, 1, 0, 1])),
                                      epochs=1, verbose=False)


@case("default-dtype-int")
def _(tmp_path):
    """`dlx.set_default_dtype("int32")`"""
    dlx.set_default_dtype("int32")


@case("default-dtype-context-bad")
def _(tmp_path):
    """`with dlx.default_dtype("complex64")`"""
    with dlx.default_dtype("complex64"):
        pass


@case("model-to-int")
def _(tmp_path):
    """`model.to("int64")`"""
    nn.Sequential(nn.Dense(2, 1)).to("int64")


@case("dense-dtype-bad")
def _(tmp_path):
    """`Dense(2, 1, dtype="bool")`"""
    nn.Dense(2, 1, dtype="bool")


@case("ce-labels-float-dtype")
def _(tmp_path):
    """`softmax_cross_entropy` with (m, 1) float labels"""
    F.softmax_cross_entropy(np.zeros((2, 3)), np.array([[0.0], [1.0]]))


@case("op-complex-operand")
def _(tmp_path):
    """`Tensor` float32 * a complex Python list"""
    Tensor(np.ones(2, dtype=np.float32)) * [1 + 2j, 3j]


@case("default-dtype-float16")
def _(tmp_path):
    """`dlx.set_default_dtype("float16")` (the kernels compute in float32 and float64 only)"""
    dlx.set_default_dtype("float16")
