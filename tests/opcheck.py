"""A small harness that checks one op the way DESIGN.md section 4 asks.

For an op given as ``fn(*tensors) -> Tensor`` with a NumPy float64 reference ``ref(*arrays)``:
forward values match the reference, the inputs are not modified, the backward passes the
course's gradient check, and a non-contiguous variant of the inputs gives the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import dlx
from dlx.gradcheck import directional_check, gradient_check


@dataclass
class OpCase:
    name: str
    fn: Callable
    ref: Callable
    shapes: list
    low: float = -2.0
    high: float = 2.0
    #: indices of inputs that get no gradient (e.g. labels)
    constant: tuple = ()
    make: Callable | None = None  # optional custom input builder (rng) -> list of arrays
    kwargs: dict = field(default_factory=dict)

    def inputs(self, rng):
        if self.make is not None:
            return self.make(rng)
        return [rng.uniform(self.low, self.high, size=s) for s in self.shapes]


def non_contiguous(a: np.ndarray, backend):
    """The same values on ``backend`` in a non-C-contiguous layout (every second element of
    a wider device array)."""
    if a.ndim == 0:
        return backend.asarray(a)
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    view = backend.asarray(wide)[..., ::2]
    assert not view.flags.c_contiguous
    return view


def run_op_checks(case: OpCase, backend, rng, rtol=1e-10, grad_tol=1e-7, full_check=True):
    host = case.inputs(rng)
    expected = case.ref(*host)
    tensors = [dlx.Tensor(backend.asarray(a), requires_grad=i not in case.constant)
               for i, a in enumerate(host)]
    before = [backend.to_host(t.data).copy() for t in tensors]
    out = case.fn(*tensors)
    np.testing.assert_allclose(backend.to_host(out.data), expected, rtol=rtol, atol=rtol,
                               err_msg=f"{case.name}: forward differs from the reference")
    out.sum().backward() if out.size > 1 else out.backward()
    for t, b in zip(tensors, before):
        np.testing.assert_array_equal(backend.to_host(t.data), b,
                                      err_msg=f"{case.name}: an input was modified")
    grads = [None if t.grad is None else backend.to_host(t.grad).copy() for t in tensors]

    variable = [t for i, t in enumerate(tensors) if i not in case.constant]
    check = gradient_check if full_check else directional_check
    diff = check(lambda: case.fn(*tensors), variable)
    assert diff < grad_tol, f"{case.name}: gradient check relative difference {diff:.2e}"

    strided = [dlx.Tensor(non_contiguous(a, backend), requires_grad=i not in case.constant)
               for i, a in enumerate(host)]
    out2 = case.fn(*strided)
    np.testing.assert_allclose(backend.to_host(out2.data), expected, rtol=rtol, atol=rtol,
                               err_msg=f"{case.name}: non-contiguous input changed the result")
    out2.sum().backward() if out2.size > 1 else out2.backward()
    for t, g in zip(strided, grads):
        if g is not None:
            np.testing.assert_allclose(backend.to_host(t.grad), g, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{case.name}: non-contiguous gradient differs")
