"""Row-sparse Embedding gradients and the optimisers' lazy row updates: plain gradient
descent identical to dense, lazy Momentum/Adam equal to references written here, clipping
equal to dense clipping, L2 (a dense gradient) turning the step dense, clear refusals."""

import numpy as np
import pytest

import dlx
import dlx.nn as nn
from dlx.errors import ConfigError
from dlx.optim import GD, Adam, Momentum, Optimizer, clip_grad_norm, clip_grad_value
from dlx.sparse_grad import RowSparseGrad

pytestmark = pytest.mark.usefixtures("float64_default")

V, D = 11, 3
BATCHES = [np.array([[1, 4, 4], [0, 6, 1]]), np.array([[4, 9, 9, 0]]), np.array([[2, 1]])]


def twin_models(backend, rng, sparse_flags=(False, True), padding_idx=0):
    """Two (embedding, projection) pairs with equal weights, differing only in ``sparse``."""
    weight, w = rng.normal(size=(V, D)), rng.normal(size=(D, 2))
    if padding_idx is not None:
        weight[padding_idx] = 0
    models = []
    for sparse in sparse_flags:
        emb = nn.Embedding(V, D, padding_idx=padding_idx, sparse=sparse)
        emb.weight.data = backend.asarray(weight).copy()
        proj = dlx.Parameter(backend.asarray(w).copy())
        models.append((emb, proj))
    return models


def loss_of(model, idx):
    emb, proj = model
    return ((emb(idx) @ proj) ** 2).sum()


def test_sparse_gradient_holds_the_dense_rows(backend, rng):
    dense, sparse = twin_models(backend, rng)
    for model in (dense, sparse):
        loss_of(model, BATCHES[0]).backward()
    g = sparse[0].weight.grad
    assert isinstance(g, RowSparseGrad)
    assert backend.to_host(g.rows).tolist() == [1, 4, 6]  # distinct, sorted, padding row 0 left out
    np.testing.assert_allclose(backend.to_host(g.to_dense()),
                               backend.to_host(dense[0].weight.grad), rtol=1e-12, atol=1e-14)


def test_shared_embedding_accumulates_sparse_plus_sparse(backend, rng):
    dense, sparse = twin_models(backend, rng)
    for model in (dense, sparse):
        (loss_of(model, BATCHES[0]) + loss_of(model, BATCHES[1])).backward()
    g = sparse[0].weight.grad
    assert isinstance(g, RowSparseGrad) and backend.to_host(g.rows).tolist() == [1, 4, 6, 9]
    np.testing.assert_allclose(backend.to_host(g.to_dense()),
                               backend.to_host(dense[0].weight.grad), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("clip", [None, "norm", "value"])
def test_gradient_descent_sparse_equals_dense_exactly(backend, rng, clip):
    models = twin_models(backend, rng)
    opts = [GD([m[0].weight, m[1]], lr=0.02) for m in models]
    for idx in BATCHES:
        for model, opt in zip(models, opts):
            opt.zero_grad()
            loss_of(model, idx).backward()
            params = [model[0].weight, model[1]]
            if clip == "norm":
                clip_grad_norm(params, 0.5)
            elif clip == "value":
                clip_grad_value(params, 0.3)
            opt.step()
    (dense_emb, dense_w), (sparse_emb, sparse_w) = models
    if clip == "norm":  # the norm sums in another order: equal to rounding
        np.testing.assert_allclose(sparse_emb.weight.to_numpy(), dense_emb.weight.to_numpy(),
                                   rtol=1e-13, atol=1e-15)
    else:
        np.testing.assert_array_equal(sparse_emb.weight.to_numpy(), dense_emb.weight.to_numpy())
        np.testing.assert_array_equal(sparse_w.to_numpy(), dense_w.to_numpy())
    assert not np.any(sparse_emb.weight.to_numpy()[0])  # the padding row never moves


def lazy_reference(weight, grads, kind, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Lazy Momentum / Adam written out per row: only rows with a gradient (and their
    moments) change; bias corrections use the global step t."""
    w, v, s = weight.copy(), np.zeros_like(weight), np.zeros_like(weight)
    for t, (rows, g) in enumerate(grads, start=1):
        v[rows] = beta1 * v[rows] + (1 - beta1) * g
        if kind == "momentum":
            w[rows] -= lr * v[rows]
            continue
        s[rows] = beta2 * s[rows] + (1 - beta2) * g * g
        v_hat, s_hat = v[rows] / (1 - beta1 ** t), s[rows] / (1 - beta2 ** t)
        w[rows] -= lr * v_hat / (np.sqrt(s_hat) + eps)
    return w


@pytest.mark.parametrize("kind", ["momentum", "adam"])
def test_lazy_updates_equal_the_reference(backend, rng, kind):
    (emb, proj), = twin_models(backend, rng, sparse_flags=(True,))
    start = emb.weight.to_numpy().copy()
    params = [emb.weight, proj]
    opt = Momentum(params, lr=0.05, beta=0.9) if kind == "momentum" else Adam(params, lr=0.05)
    seen = []
    for idx in BATCHES:
        opt.zero_grad()
        loss_of((emb, proj), idx).backward()
        g = emb.weight.grad
        seen.append((backend.to_host(g.rows), backend.to_host(g.values).copy()))
        opt.step()
    np.testing.assert_allclose(emb.weight.to_numpy(), lazy_reference(start, seen, kind, 0.05),
                               rtol=1e-12, atol=1e-14)
    untouched = [r for r in range(V) if all(r not in rows for rows, _ in seen)]
    assert untouched and np.array_equal(emb.weight.to_numpy()[untouched], start[untouched])


def test_lazy_adam_differs_from_dense_adam(backend, rng):
    """Documented: a row absent from a batch keeps moving under dense Adam, not under lazy."""
    models = twin_models(backend, rng)
    opts = [Adam([m[0].weight, m[1]], lr=0.05) for m in models]
    for idx in BATCHES:
        for model, opt in zip(models, opts):
            opt.zero_grad()
            loss_of(model, idx).backward()
            opt.step()
    # row 6 is only in the first batch: dense Adam moves it on later steps, lazy Adam does not
    dense, lazy = (m[0].weight.to_numpy()[6] for m in models)
    assert not np.allclose(dense, lazy)


def test_l2_penalty_makes_the_gradient_and_the_step_dense(backend, rng):
    models = twin_models(backend, rng, padding_idx=None)
    opts = [GD([m[0].weight, m[1]], lr=0.02) for m in models]
    for model, opt in zip(models, opts):
        emb = model[0]
        (loss_of(model, BATCHES[0]) + 0.5 * (emb.weight ** 2).sum()).backward()
        opt.step()
    assert not isinstance(models[1][0].weight.grad, RowSparseGrad)
    np.testing.assert_allclose(models[1][0].weight.to_numpy(), models[0][0].weight.to_numpy(),
                               rtol=1e-13, atol=1e-15)


def test_dense_plus_sparse_in_either_order(backend, rng):
    dense = backend.asarray(rng.normal(size=(V, D)))
    sparse = RowSparseGrad(backend.asarray(np.array([2, 5])),
                           backend.asarray(rng.normal(size=(2, D))), (V, D))
    expected = backend.to_host(dense) + backend.to_host(sparse.to_dense())
    for total in (dense + sparse, sparse + dense):
        np.testing.assert_allclose(backend.to_host(total), expected, rtol=1e-15)


def test_optimiser_without_a_row_update_refuses(backend, rng):
    class Sign(Optimizer):  # not declared elementwise: must refuse, not guess
        def update(self, p, g):
            p.data -= self.lr * g

    (emb, proj), = twin_models(backend, rng, sparse_flags=(True,))
    loss_of((emb, proj), BATCHES[0]).backward()
    with pytest.raises(ConfigError, match="Sign: no row-sparse update.*sparse=False"):
        Sign([emb.weight], lr=0.1).step()


def test_using_a_sparse_gradient_as_an_array_is_a_clear_error(backend, rng):
    (emb, proj), = twin_models(backend, rng, sparse_flags=(True,))
    loss_of((emb, proj), BATCHES[0]).backward()
    with pytest.raises(ConfigError, match="row-sparse gradient.*to_dense"):
        np.asarray(emb.weight.grad)
