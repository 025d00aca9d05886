"""Inputs: array-likes are converted; masked arrays are refused (the mask would be lost)."""

import numpy as np

from dlx import Parameter, Tensor, nn

from errors.registry import registry

CASES, case = registry()


@case("tensor-masked")
def _(tmp_path):
    """`Tensor` of a NumPy masked array"""
    Tensor(np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]))


@case("fit-masked")
def _(tmp_path):
    """`fit` with X a masked array"""
    X = np.ma.masked_array(np.zeros((4, 2)), mask=np.zeros((4, 2)))
    nn.Sequential(nn.Dense(2, 1)).fit((X, np.array([0, 1, 0, 1])), epochs=1, verbose=False)


@case("parameter-masked")
def _(tmp_path):
    """`Parameter` of a masked array"""
    Parameter(np.ma.masked_array([1.0, 2.0], mask=[1, 0]))


@case("power-tensor-exponent")
def _(tmp_path):
    """`x ** Tensor(2)` (exponents are Python numbers)"""
    Tensor(np.ones(2)) ** Tensor(np.array(2.0))


@case("host-malloc-env")
def _(tmp_path):
    """`DLX_HOST_MALLOC=jemalloc` when a NumPy backend is created"""
    import unittest.mock

    from dlx.backends.numpy_backend import NumpyBackend

    with unittest.mock.patch.dict("os.environ", {"DLX_HOST_MALLOC": "jemalloc"}):
        NumpyBackend()


@case("blas-spin-env")
def _(tmp_path):
    """`DLX_BLAS_SPIN=fast` when a NumPy backend is created"""
    import unittest.mock

    from dlx.backends.numpy_backend import NumpyBackend

    with unittest.mock.patch.dict("os.environ", {"DLX_BLAS_SPIN": "fast"}):
        NumpyBackend()


@case("cpu-kernels-env")
def _(tmp_path):
    """`DLX_CPU_KERNELS=fast` when a NumPy backend is created"""
    import unittest.mock

    from dlx.backends.numpy_backend import NumpyBackend

    with unittest.mock.patch.dict("os.environ", {"DLX_CPU_KERNELS": "fast"}):
        NumpyBackend()
