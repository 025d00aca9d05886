"""The accuracy fit, evaluate, `dlx train` and `dlx evaluate` report is the true accuracy,
for labels of shape (m,), (m, 1) and one-hot, on binary and multi-class models.

The reference is independent of the reporting code: ``predict`` (argmax / logit > 0) compared
with the (m,) labels in NumPy. Before the fix, (m, 1) binary labels gave accuracies near m/2.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import dlx.backends as B
from dlx.cli import main
from dlx.data import train_dev_test_split
from dlx.nn import Dense, Sequential
from dlx.train import build_model, fit, load_checkpoint
from dlx.train.prepare import SPLIT, Preparation

LAYOUTS = ("flat", "column", "one-hot")
TASKS = {"binary": 2, "multiclass": 3}
ACCURACY = re.compile(r"^(\w+) accuracy: (\d\.\d{4}) \((\d+)/(\d+)\)", re.M)


def blobs(k: int, m: int = 240, seed: int = 0):
    """Overlapping Gaussian blobs in 4-D: a model reaches ~80-95%, never exactly 100%."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, m)
    centres = rng.normal(0, 1.2, (k, 4))
    return (centres[y] + rng.normal(0, 1.0, (m, 4))).astype(np.float32), y


def layout(y, k: int, name: str):
    if name == "flat":
        return y
    if name == "column":
        return y[:, None]
    return np.eye(k, dtype=np.int64)[y]


def true_accuracy(model, X, y) -> float:
    return float(np.mean(model.predict(X) == y))


@pytest.fixture(autouse=True)
def keep_backend():
    previous = B.current()
    yield
    B.set_backend(previous)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("labels", LAYOUTS)
def test_fit_and_evaluate_report_the_true_accuracy(task, labels):
    k = TASKS[task]
    X, y = blobs(k)
    parts = train_dev_test_split(X, y, dev=0.25, test=0.25, seed=1)
    B.current().seed(0)
    # one output for 0/1 labels; a one-hot binary target needs two
    n_out = 1 if task == "binary" and labels != "one-hot" else k
    model = Sequential(Dense(4, 8, "relu"), Dense(8, n_out))
    train = (parts.X_train, layout(parts.y_train, k, labels))
    dev = (parts.X_dev, layout(parts.y_dev, k, labels))
    history = fit(model, train, dev, epochs=15, batch_size=16, lr=0.05, verbose=False)
    dev_acc = true_accuracy(model, parts.X_dev, parts.y_dev)
    assert history["dev_accuracy"][-1] == pytest.approx(dev_acc, abs=1e-12)
    test = model.evaluate((parts.X_test, layout(parts.y_test, k, labels)))
    test_acc = true_accuracy(model, parts.X_test, parts.y_test)
    assert test["accuracy"] == pytest.approx(test_acc, abs=1e-12)
    assert 0.6 < test_acc < 1.0  # it learned, and the data is not trivially separable
    # a frozen model (lr = 1e-30 is below float32 resolution for these weights): the training
    # accuracy fit reports is the true one too
    frozen = fit(model, train, epochs=1, batch_size=16, optimizer="gd", lr=1e-30,
                 verbose=False)
    assert frozen["accuracy"][0] == pytest.approx(
        true_accuracy(model, parts.X_train, parts.y_train), abs=1e-12)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _reported(out: str, split: str) -> tuple[float, int, int]:
    found = {m.group(1): m for m in ACCURACY.finditer(out)}
    match = found[split]
    return float(match.group(2)), int(match.group(3)), int(match.group(4))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("labels", LAYOUTS)
def test_dlx_train_and_evaluate_report_the_true_accuracy(tmp_path, capsys, task, labels):
    k = TASKS[task]
    X, y = blobs(k, m=300, seed=2)
    data = tmp_path / "data.npz"
    np.savez(data, X=X, y=layout(y, k, labels))
    out_dir = tmp_path / "run"
    out = _run(capsys, "train", "--model", "logreg", "--dataset", data, "--epochs", 3,
               "--lr", 0.05, "--backend", "numpy", "--out", out_dir, "--quiet")
    # the reference: the final checkpoint's model, predicting the fixed split's test rows
    ckpt = load_checkpoint(out_dir / "checkpoint.npz")
    model = build_model(ckpt)
    prep = Preparation.from_checkpoint(ckpt.meta["info"]["prep"], ckpt.extra)
    parts = train_dev_test_split(X, y, dev=SPLIT["dev"], test=SPLIT["test"], seed=SPLIT["seed"])
    correct = int(np.sum(model.predict(prep.apply(parts.X_test)) == parts.y_test))
    acc, n_correct, m = _reported(out, "test")
    assert (n_correct, m) == (correct, len(parts.y_test))
    assert acc == pytest.approx(correct / m, abs=5e-5)
    assert 0.5 < acc < 1.0
    for split, Xs, ys in (("test", parts.X_test, parts.y_test), ("dev", parts.X_dev, parts.y_dev)):
        out = _run(capsys, "evaluate", out_dir / "checkpoint.npz", "--split", split,
                   "--backend", "numpy")
        _, n_correct, m = _reported(out, split)
        assert (n_correct, m) == (int(np.sum(model.predict(prep.apply(Xs)) == ys)), len(ys))


def test_metrics_take_an_m_by_1_column_as_m_labels():
    from dlx.strategy import metrics

    y = np.array([0, 1, 1, 0, 1])
    pred = np.array([0, 1, 0, 0, 0])
    assert metrics.accuracy(y[:, None], pred) == metrics.accuracy(y, pred) == 0.6
    assert metrics.precision_recall_f1(y, pred[:, None])["recall"] == pytest.approx(1 / 3)
