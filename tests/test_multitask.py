"""Multi-task logistic loss with missing labels: value, zero gradient where missing, gradient
check, and the mask form equal to the NaN form."""

import math

import numpy as np
import pytest

import dlx
from dlx.errors import ShapeError
from dlx.functional import multi_task_cross_entropy
from dlx.functional.multitask import per_task_accuracy
from dlx.gradcheck import gradient_check


def _case(rng, m=6, tasks=4):
    z = rng.normal(size=(m, tasks))
    y = (rng.random((m, tasks)) > 0.5).astype(np.float64)
    y[rng.random((m, tasks)) < 0.3] = np.nan  # the course's "?" entries
    y[0, 0] = np.nan
    return z, y


def _reference(z, y):
    total = 0.0
    for zij, yij in zip(z.ravel(), y.ravel()):
        if not math.isnan(yij):
            s = 1 / (1 + math.exp(-zij))
            total -= yij * math.log(s) + (1 - yij) * math.log(1 - s)
    return total / z.shape[0]


def test_loss_sums_labelled_tasks_and_ignores_missing(backend, rng):
    z, y = _case(rng)
    loss = multi_task_cross_entropy(dlx.Tensor(backend.asarray(z)), backend.asarray(y))
    assert float(backend.to_host(loss.data)) == pytest.approx(_reference(z, y), rel=1e-12)


def test_missing_entries_get_exactly_zero_gradient(backend, rng):
    z, y = _case(rng)
    zt = dlx.Tensor(backend.asarray(z), requires_grad=True)
    multi_task_cross_entropy(zt, backend.asarray(y)).backward()
    grad = backend.to_host(zt.grad)
    missing = np.isnan(y)
    assert missing.any() and (grad[missing] == 0.0).all()
    assert (grad[~missing] != 0.0).all()
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(grad[~missing], ((s - np.nan_to_num(y)) / z.shape[0])[~missing],
                               rtol=1e-12)


def test_gradient_check(backend, rng):
    z, y = _case(rng)
    zt = dlx.Tensor(backend.asarray(z), requires_grad=True)
    diff = gradient_check(lambda: multi_task_cross_entropy(zt, backend.asarray(y)), [zt])
    assert diff < 1e-7


def test_mask_form_equals_nan_form(backend, rng):
    z, y = _case(rng)
    mask = ~np.isnan(y)
    filled = np.where(mask, y, 1.0)  # garbage where masked out
    a = multi_task_cross_entropy(dlx.Tensor(backend.asarray(z)), backend.asarray(y))
    b = multi_task_cross_entropy(dlx.Tensor(backend.asarray(z)), backend.asarray(filled),
                                 mask=backend.asarray(mask))
    assert float(backend.to_host(a.data)) == float(backend.to_host(b.data))


def test_per_task_accuracy_counts_labelled_examples_only(backend):
    z = np.array([[1.0, -1.0], [-1.0, 2.0], [3.0, 1.0]])
    y = np.array([[1.0, np.nan], [1.0, 1.0], [np.nan, 0.0]])
    assert per_task_accuracy(backend.asarray(z), backend.asarray(y)) == [0.5, 0.5]


def test_shapes_must_match(backend):
    with pytest.raises(ShapeError, match=r"\(m, T\)"):
        multi_task_cross_entropy(dlx.Tensor(backend.asarray(np.zeros((3, 2)))),
                                 backend.asarray(np.zeros((3, 3))))


def test_fit_learns_three_tasks_with_a_third_of_the_labels_missing():
    from dlx.models import mlp
    from dlx.train import fit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5], 1).astype(float)
    Y[rng.random(Y.shape) < 0.3] = np.nan
    dlx.backends.current().seed(0)
    model = mlp([5, 16, 3])
    fit(model, (X[:300], Y[:300]), epochs=30, lr=0.01, loss=multi_task_cross_entropy,
        verbose=False)
    z = model(dlx.Tensor(X[300:].astype(np.float32))).data
    assert min(per_task_accuracy(z, Y[300:])) > 0.9
