"""The autodiff core: accumulation over branches, broadcasting, no_grad, graph release."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
from dlx.errors import ShapeError


def test_branching_graph_accumulates_gradients():
    x = dlx.Tensor(np.array([3.0]), requires_grad=True)
    y = x * x + x * 2.0 + F.exp(x) * 0.0  # dy/dx = 2x + 2
    y.backward()
    assert x.grad[0] == pytest.approx(8.0)


def test_diamond_graph_visits_each_function_once():
    x = dlx.Tensor(np.array([2.0]), requires_grad=True)
    a = x * 3.0
    b = a + a  # a used twice: d b / d x = 6
    c = b * a  # c = 2a^2 -> dc/dx = 4a * 3 = 72 at x=2 (a=6)
    c.backward()
    assert x.grad[0] == pytest.approx(72.0)


def test_broadcast_gradient_is_summed_back_to_shape():
    x = dlx.Tensor(np.ones((4, 3)), requires_grad=True)
    b = dlx.Tensor(np.ones(3), requires_grad=True)
    (x + b).sum().backward()
    assert b.grad.shape == (3,) and np.all(b.grad == 4)


def test_gradients_accumulate_across_backward_calls_until_cleared():
    w = dlx.Parameter(np.array([1.0, 2.0]))
    (w * 2.0).sum().backward()
    (w * 2.0).sum().backward()
    assert np.all(w.grad == 4)


def test_no_grad_records_nothing():
    w = dlx.Parameter(np.array([1.0]))
    with dlx.no_grad():
        y = w * 2.0
    assert y.creator is None and not y.requires_grad
    assert dlx.is_grad_enabled()


def test_graph_is_released_after_backward():
    w = dlx.Parameter(np.array([1.0]))
    y = w * 2.0
    z = y * 3.0
    z.backward()
    assert y.grad is None  # intermediate gradients are not kept
    assert not hasattr(z.creator, "a")  # the saved operands were dropped
    with pytest.raises(dlx.DlxError, match="already released.*retain_graph"):
        z.backward()


def test_the_graph_does_not_keep_intermediate_arrays_alive():
    import gc
    import weakref

    w = dlx.Parameter(np.ones(3))
    h = w * 2.0                      # nothing saves h's array for backward ...
    out = F.relu(F.exp(h))           # ... Exp saves its output, ReLU a mask
    probe = weakref.ref(h.data)
    del h
    gc.collect()
    assert probe() is None
    out.sum().backward()
    assert np.allclose(w.grad, 2 * np.exp(2.0))


def test_retain_graph_allows_a_second_backward():
    w = dlx.Parameter(np.array([1.0]))
    z = (w * 2.0) * 3.0
    z.backward(retain_graph=True)
    z.backward()
    assert w.grad[0] == pytest.approx(12.0)


def test_backward_of_a_vector_needs_a_gradient():
    w = dlx.Parameter(np.ones(3))
    with pytest.raises(ShapeError, match="one-element"):
        (w * 2.0).backward()
    (w * 2.0).backward(grad=np.array([1.0, 0.0, 1.0]))
    assert np.array_equal(w.grad, [2.0, 0.0, 2.0])


def test_scalars_take_the_tensor_dtype():
    x = dlx.Tensor(np.ones(3, dtype=np.float32))
    assert (x * 0.1 + 1).dtype == np.float32
    assert (2.0 / x).dtype == np.float32


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ShapeError, match=r"\(2, 3\) and \(4, 5\)"):
        dlx.Tensor(np.ones((2, 3))) @ dlx.Tensor(np.ones((4, 5)))
