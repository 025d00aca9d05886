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


def _three_tasks(m=160, seed=0):
    """(X, Y 0/1 ints, mask): three tasks of the inputs, about a third of the labels missing."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 5))
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5], 1).astype(np.int64)
    mask = rng.random(Y.shape) > 0.3
    mask[:, 2] &= np.arange(m) % 2 == 0  # task 2: labelled on even rows only
    return X, Y, mask


def _fit(backend, train, dev, epochs=3):
    from dlx.models import mlp
    from dlx.train import fit

    backend.seed(0)
    model = mlp([5, 8, 3])
    history = fit(model, train, dev, epochs=epochs, batch_size=32, lr=0.02,
                  loss=multi_task_cross_entropy, verbose=False)
    return model, history


def test_fit_with_a_mask_equals_fit_with_nan_targets(backend):
    """Same seed: the (X, Y, mask) run and the NaN run give the same bits, and the entries the
    mask leaves out never matter (they hold 7 here)."""
    X, Y, mask = _three_tasks()
    garbage = np.where(mask, Y, 7)
    nan_form = np.where(mask, Y, np.nan)
    a, ha = _fit(backend, (X[:120], nan_form[:120]), (X[120:], nan_form[120:]))
    b, hb = _fit(backend, (X[:120], garbage[:120], mask[:120]),
                 (X[120:], garbage[120:], mask[120:]))
    for p, q in zip(a.parameters(), b.parameters()):
        assert (backend.to_host(p.data) == backend.to_host(q.data)).all()
    timing = ("time", "samples_per_s")
    assert [{k: v for k, v in r.items() if k not in timing} for r in ha.records] == \
        [{k: v for k, v in r.items() if k not in timing} for r in hb.records]


def test_per_task_accuracy_is_over_each_tasks_labelled_entries(backend):
    from dlx.train import evaluate

    X, Y, mask = _three_tasks()
    model, history = _fit(backend, (X[:120], Y[:120], mask[:120]), (X[120:], Y[120:], mask[120:]))
    z = backend.to_host(model(dlx.Tensor(backend.asarray(X[120:].astype(np.float32)))).data)
    hit = (z > 0) == (Y[120:] == 1)
    m = mask[120:]
    expected = [hit[m[:, j], j].mean() for j in range(3)]
    result = evaluate(model, (X[120:], Y[120:], m), loss=multi_task_cross_entropy)
    for j in range(3):
        assert result[f"task{j}_accuracy"] == pytest.approx(expected[j], abs=1e-12)
        assert history[f"dev_task{j}_accuracy"][-1] == pytest.approx(expected[j], abs=1e-12)
    assert result["accuracy"] == pytest.approx(hit[m].mean(), abs=1e-12)


def test_sharded_evaluation_reduces_per_task_counts_exactly():
    """Two ranks whose halves hold different numbers of labelled entries: the reduced
    per-task accuracy is the whole set's, not a mean of the halves' accuracies."""
    from dlx.distributed import evaluate as evaluate_sharded
    from dlx.train import evaluate
    from dlx.train.loop import _checked_batches, _evaluate_batches

    X, Y, mask = _three_tasks(m=60)
    mask[30:, 0] = np.arange(30) < 5  # rank 1 has only 5 labels of task 0
    model, _ = _fit(dlx.backends.current(), (X, Y, mask), None, epochs=1)
    task, batches = _checked_batches("evaluate", model, (X[30:], Y[30:], mask[30:]),
                                     multi_task_cross_entropy, 256, False)
    peer = _evaluate_batches(model, batches, task).sums()

    class RankZeroOfTwo:
        rank, size = 0, 2

        def allreduce_(self, a):
            a += np.asarray(peer)
            return a

    whole = evaluate(model, (X, Y, mask), loss=multi_task_cross_entropy)
    sharded = evaluate_sharded(model, (X, Y, mask), loss=multi_task_cross_entropy,
                               comm=RankZeroOfTwo())
    assert sharded == pytest.approx(whole, abs=1e-12)


@pytest.mark.parametrize("bad,error,match", [
    (lambda mask: mask[:, :2], ShapeError, r"mask of shape \(40, 2\) does not match"),
    (lambda mask: mask.astype(np.float64), dlx.errors.DtypeError, "must be boolean"),
])
def test_a_bad_mask_is_refused_by_fit_and_by_the_loss(bad, error, match):
    from dlx.models import mlp

    X, Y, mask = _three_tasks(m=40)
    with pytest.raises(error, match=match):
        mlp([5, 8, 3]).fit((X, Y, bad(mask)), loss=multi_task_cross_entropy, verbose=False)
    with pytest.raises(error, match=match):
        multi_task_cross_entropy(dlx.Tensor(np.zeros((40, 3))), Y.astype(float), bad(mask))


def test_data_parallel_fit_of_one_rank_takes_the_mask_like_plain_fit():
    """distributed=True without mpiexec is a world of one: the mask goes through the sharded
    batches and the reduced per-task sums, and the run equals the plain one."""
    from dlx.models import mlp
    from dlx.train import fit

    backend = dlx.backends.current()
    X, Y, mask = _three_tasks()
    runs = []
    for distributed in (False, True):
        backend.seed(0)
        model = mlp([5, 8, 3])
        history = fit(model, (X[:120], Y[:120], mask[:120]), (X[120:], Y[120:], mask[120:]),
                      epochs=2, batch_size=32, lr=0.02, loss=multi_task_cross_entropy,
                      verbose=False, distributed=distributed)
        runs.append((model, history.last))
    (a, ra), (b, rb) = runs
    for p, q in zip(a.parameters(), b.parameters()):
        assert (p.data == q.data).all()
    for key in ("cost", "accuracy", "task2_accuracy", "dev_accuracy", "dev_task2_accuracy"):
        assert rb[key] == pytest.approx(ra[key], rel=1e-12)
