"""Models whose last layer is a sigmoid or softmax output probabilities, and every consumer
(fit with loss="auto", evaluate, predict, predict_proba) treats them as such; float 0/1
labels are labels, not regression targets."""

from __future__ import annotations

import numpy as np
import pytest

import dlx.functional as F
from dlx import Tensor, nn
from dlx.train.targets import output_activation, prepare


def blobs(k, m=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, m)
    return (rng.normal(0, 1.5, (k, 3))[y] + rng.normal(size=(m, 3))).astype(np.float32), y


MODELS = {
    "sigmoid-layer": lambda: nn.Sequential(nn.Dense(3, 1), nn.Sigmoid()),
    "sigmoid-dense": lambda: nn.Sequential(nn.Dense(3, 1, "sigmoid")),
    "softmax-layer": lambda: nn.Sequential(nn.Dense(3, 3), nn.Softmax()),
    "softmax-dense": lambda: nn.Sequential(nn.Dense(3, 3, "softmax")),
}


@pytest.mark.parametrize("name", MODELS)
def test_probability_models_are_trained_evaluated_and_predicted_as_probabilities(backend,
                                                                                 name):
    k = 2 if name.startswith("sigmoid") else 3
    X, y = blobs(k)
    backend.seed(0)
    model = MODELS[name]()
    assert output_activation(model) == name.split("-")[0]
    history = model.fit((X, y), epochs=20, batch_size=16, lr=0.05, verbose=False)
    probs = backend.to_host(model(Tensor(backend.asarray(X))).data)
    labels = model.predict(X)
    expected = (probs[:, 0] > 0.5).astype(np.int64) if k == 2 else probs.argmax(axis=1)
    np.testing.assert_array_equal(labels, expected)
    assert 0 < labels.sum() < len(labels) * (k - 1)  # not "all ones"
    result = model.evaluate((X, y))
    assert result["accuracy"] == pytest.approx(np.mean(labels == y), abs=1e-12)
    assert result["accuracy"] > 0.8 and history["cost"][-1] < history["cost"][0]
    # the cost is the cross-entropy of the probabilities, not a logit loss applied to them
    p = np.clip(probs.astype(np.float64), 1e-7, 1 - 1e-7)
    cost = -np.mean(y * np.log(p[:, 0]) + (1 - y) * np.log(1 - p[:, 0])) if k == 2 \
        else -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)))
    assert result["cost"] == pytest.approx(cost, rel=1e-4)
    proba = model.predict_proba(X)
    column = np.column_stack([1 - probs[:, 0], probs[:, 0]]) if k == 2 else probs
    np.testing.assert_allclose(proba, column, rtol=1e-6)


def test_a_module_can_declare_its_output_activation():
    class Probabilities(nn.Module):
        output_activation = "sigmoid"

    assert output_activation(Probabilities()) == "sigmoid"
    assert output_activation(nn.Sequential(nn.Dense(3, 1))) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_01_labels_use_binary_cross_entropy_not_mse(backend, dtype):
    X, y = blobs(2)
    model = nn.Sequential(nn.Dense(3, 1))
    task, _ = prepare("train", model, backend.asarray(X), backend.asarray(y.astype(dtype)))
    assert task.kind == "binary" and task.loss is F.binary_cross_entropy_with_logits
    regression, _ = prepare("train", model, backend.asarray(X),
                            backend.asarray(y.astype(dtype)), loss="mse")
    assert regression.kind == "regression" and not regression.reports_accuracy


def test_soft_binary_labels_train_with_an_explicit_bce_and_report_no_accuracy(backend):
    X, y = blobs(2)
    soft = np.where(y == 1, 0.9, 0.1)
    model = nn.Sequential(nn.Dense(3, 1))
    history = model.fit((X, soft), loss="binary_cross_entropy", epochs=2, verbose=False)
    assert history["accuracy"] == [None, None]
    assert F.binary_cross_entropy_with_logits(np.zeros(2), [0.25, 0.75]).item() == \
        pytest.approx(np.log(2))


def test_float_regression_targets_stay_regression(backend):
    X, _ = blobs(2)
    y = X[:, :1] * 0.3
    model = nn.Sequential(nn.Dense(3, 1))
    history = model.fit((X, y), epochs=2, verbose=False)
    assert history["accuracy"] == [None, None]


def test_column_labels_equal_flat_labels_in_softmax_ce(backend):
    z = np.random.default_rng(0).normal(size=(5, 3))
    t = np.array([0, 2, 1, 1, 0])
    assert F.softmax_cross_entropy(z, t[:, None]).item() == \
        F.softmax_cross_entropy(z, t).item() == \
        pytest.approx(F.softmax_cross_entropy(z, np.eye(3)[t]).item(), rel=1e-12)


def test_cross_entropy_of_probabilities_gradient(backend):
    from dlx.gradcheck import gradient_check

    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 4))
    p = Tensor(backend.asarray(np.exp(z) / np.exp(z).sum(1, keepdims=True)), requires_grad=True)
    t = backend.asarray(np.array([0, 3, 1, 1, 2]))
    expected = -np.mean(np.log(backend.to_host(p.data))[np.arange(5), [0, 3, 1, 1, 2]])
    assert F.cross_entropy(p, t).item() == pytest.approx(expected, rel=1e-12)
    assert gradient_check(lambda: F.cross_entropy(p, t), [p]) < 1e-7
    onehot = backend.asarray(np.eye(4)[[0, 3, 1, 1, 2]])
    assert gradient_check(lambda: F.cross_entropy(p, onehot), [p]) < 1e-7
