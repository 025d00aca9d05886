"""Course 1 in one script: logistic regression on breast cancer, then why depth matters.

    python examples/course1_logistic_and_deep.py

Prints the test accuracy of a single sigmoid unit on the (standardised) breast-cancer data,
then the training accuracy of logistic regression and of a 2-hidden-layer ReLU network on
interleaved spirals, a problem no linear boundary solves.
"""

import numpy as np

import dlx
import dlx.backends
import dlx.functional as F
import dlx.nn as nn
from dlx.data import load_breast_cancer, make_spirals, train_dev_test_split
from dlx.data.normalize import Standardizer
from dlx.optim import GD


def train(model, X, y, cost_fn, lr, iterations):
    """Batch gradient descent: every iteration uses all m examples."""
    opt = GD(model.parameters(), lr=lr)
    X = dlx.Tensor(X)
    for _ in range(iterations):
        cost = cost_fn(model(X), y)
        opt.zero_grad()
        cost.backward()
        opt.step()
    return cost.item()


def logistic_regression_breast_cancer(seed=0):
    """Test accuracy of one sigmoid unit, inputs standardised with training statistics."""
    dlx.backends.current().seed(seed)
    split = train_dev_test_split(*load_breast_cancer(), test=0.2, seed=seed)
    scaler = Standardizer().fit(split.X_train)
    model = nn.Dense(30, 1, init_method="zeros")
    train(model, scaler.transform(split.X_train), split.y_train.reshape(-1, 1).astype(np.float32),
          F.binary_cross_entropy_with_logits, lr=0.5, iterations=300)
    with dlx.no_grad():
        scores = model(scaler.transform(split.X_test)).to_numpy()[:, 0]
    return float(((scores > 0) == split.y_test).mean())


def spirals_accuracy(hidden, seed=0):
    """Training accuracy on 2-class spirals: hidden=() is logistic regression."""
    dlx.backends.current().seed(seed)
    X, y = make_spirals(n_per_class=200, seed=seed)
    dims = (2, *hidden)
    layers = [nn.Dense(a, b, "relu") for a, b in zip(dims[:-1], dims[1:])]
    model = nn.Sequential(*layers, nn.Dense(dims[-1], 2))
    train(model, X, y, F.softmax_cross_entropy, lr=0.5, iterations=1500)
    with dlx.no_grad():
        return float((model(X).to_numpy().argmax(1) == y).mean())


if __name__ == "__main__":
    print(f"logistic regression, breast cancer: test accuracy {logistic_regression_breast_cancer():.3f}")
    print(f"spirals, logistic regression:        train accuracy {spirals_accuracy(()):.3f}")
    print(f"spirals, 2 ReLU hidden layers (64):  train accuracy {spirals_accuracy((64, 64)):.3f}")
