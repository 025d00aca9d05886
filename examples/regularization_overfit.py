"""Over-fitting on purpose, then L2 and inverted dropout cutting the dev-minus-train gap.

Two noisy interleaved spirals; a small training subset (150 points) and a wide net
(2-256-256-2 ReLU) trained with Adam on mini-batches of 50 for 300 epochs: without
regularisation it fits every training point and pays for it on the dev set. The same run
with L2 (lambda = 0.1) and with dropout (keep_prob = 0.9 on both hidden layers) is printed
beside it. Fixed seeds; about two seconds on a laptop CPU.

    python examples/regularization_overfit.py
"""

from __future__ import annotations

import dlx.backends as B
from dlx import functional as F
from dlx import nn, no_grad
from dlx.data import MiniBatches, make_spirals, train_dev_test_split
from dlx.optim import Adam

N_TRAIN = 150
EPOCHS = 300
WIDTH = 256


def small_split(seed: int = 0):
    """150 training points and 500 dev points of noisy spirals."""
    X, y = make_spirals(n_per_class=500, noise=0.3, seed=seed)
    split = train_dev_test_split(X, y, dev=0.5, test=0.1, seed=seed)
    split.X_train, split.y_train = split.X_train[:N_TRAIN], split.y_train[:N_TRAIN]
    return split


def wide_net(keep_prob: float = 1.0, seed: int = 0):
    B.current().seed(seed)
    drop = [nn.Dropout(keep_prob)] if keep_prob < 1 else []
    return nn.Sequential(nn.Dense(2, WIDTH, "relu"), *drop, nn.Dense(WIDTH, WIDTH, "relu"),
                         *drop, nn.Dense(WIDTH, 2))


def error(model, X, y) -> float:
    model.eval()
    with no_grad():
        pred = model(B.current().asarray(X)).data.argmax(axis=1)
    model.train()
    return float((B.current().to_host(pred) != y).mean())


def train(split, lambd: float = 0.0, keep_prob: float = 1.0, seed: int = 0):
    """Train the wide net with cost + L2 penalty; return (train error, dev error)."""
    model = wide_net(keep_prob, seed)
    opt = Adam(model.parameters(), lr=0.003)
    batches = MiniBatches(split.X_train, split.y_train, batch_size=50)
    for _ in range(EPOCHS):
        for xb, yb in batches:
            opt.zero_grad()
            cost = F.softmax_cross_entropy(model(xb), yb) + nn.l2_penalty(model, lambd, len(yb))
            cost.backward()
            opt.step()
    return error(model, split.X_train, split.y_train), error(model, split.X_dev, split.y_dev)


RUNS = (("no regularisation", {}), ("L2, lambda = 0.1", {"lambd": 0.1}),
        ("dropout, keep_prob = 0.9", {"keep_prob": 0.9}))


def main():
    split = small_split()
    print(f"noisy spirals: {len(split.y_train)} training points, {len(split.y_dev)} dev; "
          f"2-{WIDTH}-{WIDTH}-2 ReLU, Adam, {EPOCHS} epochs")
    print(f"{'run':26} {'train err':>9} {'dev err':>8} {'dev - train':>11}")
    for name, kwargs in RUNS:
        tr, dev = train(split, **kwargs)
        print(f"{name:26} {tr:9.3f} {dev:8.3f} {dev - tr:11.3f}")


if __name__ == "__main__":
    main()
