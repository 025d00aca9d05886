"""Learning tests: a small CNN and a residual network on the bundled digits (fixed seeds)."""

import pytest

from dlx import backends
from dlx.data.datasets import load_digits, train_dev_test_split
from dlx.models import cnn, resnet
from dlx.optim.schedules import ExponentialDecay
from dlx.train import LRScheduler, evaluate, fit


def _digits():
    X, y = load_digits(images=True)
    return train_dev_test_split(X, y, test=0.2, seed=0)


def _train(model, split, epochs, lr=0.003):
    fit(model, (split.X_train, split.y_train), epochs=epochs, batch_size=32, optimizer="adam",
        lr=lr, callbacks=[LRScheduler(ExponentialDecay(lr, 0.75))], verbose=False)
    return evaluate(model, (split.X_test, split.y_test))["accuracy"]


@pytest.mark.slow
def test_small_cnn_reaches_98_percent_on_digits():
    with backends.use("numpy") as be:
        be.seed(0)
        split = _digits()
        accuracy = _train(cnn((1, 8, 8), 10, channels=(32, 64), hidden=128), split, epochs=8)
    assert accuracy >= 0.98, f"test accuracy {accuracy:.4f}"


@pytest.mark.slow
def test_residual_network_reaches_97_percent_on_digits():
    with backends.use("numpy") as be:
        be.seed(0)
        split = _digits()
        model = resnet((1, 8, 8), 10)
        assert sum(type(m).__name__ == "Conv2D" for m in model.modules()) >= 8
        accuracy = _train(model, split, epochs=5)
    assert accuracy >= 0.97, f"test accuracy {accuracy:.4f}"
