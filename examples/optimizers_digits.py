"""Adam vs plain mini-batch gradient descent on the bundled 8x8 digits.

A 3-hidden-layer ReLU net (64-128-64-32-10, He init), mini-batches of 64, pixels in [0, 1],
fixed seeds. Each optimiser runs at every learning rate of its grid; the count is the first
epoch after which test accuracy is >= 96%. The best of each grid is compared, on the main
split and then on three more splits to show the ordering is not one split's luck.

    python examples/optimizers_digits.py
"""

from __future__ import annotations

import dlx.backends as B
from dlx import functional as F
from dlx import nn, no_grad
from dlx.data import MiniBatches, load_digits, train_dev_test_split
from dlx.optim import GD, Adam

TARGET = 0.96
MAX_EPOCHS = 30
GD_RATES = (0.03, 0.1, 0.3, 0.5, 1.0)
ADAM_RATES = (0.001, 0.003, 0.01)


def digits_split(seed: int = 0):
    """80% train / 20% test, stratified; pixels already scaled to [0, 1]."""
    X, y = load_digits()
    return train_dev_test_split(X, y, dev=0.0, test=0.2, seed=seed)


def build_net(seed: int = 0):
    B.current().seed(seed)
    return nn.Sequential(nn.Dense(64, 128, "relu"), nn.Dense(128, 64, "relu"),
                         nn.Dense(64, 32, "relu"), nn.Dense(32, 10))


def accuracy(model, X, y) -> float:
    model.eval()
    with no_grad():
        pred = model(B.current().asarray(X)).data.argmax(axis=1)
    model.train()
    return float((B.current().to_host(pred) == y).mean())


def epochs_to_target(split, make_optimizer, seed: int = 0):
    """Train with mini-batches of 64; the first epoch whose test accuracy >= TARGET, or None."""
    model = build_net(seed)
    opt = make_optimizer(model.parameters())
    batches = MiniBatches(split.X_train, split.y_train, batch_size=64)
    for epoch in range(1, MAX_EPOCHS + 1):
        for xb, yb in batches:
            opt.zero_grad()
            loss = F.softmax_cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        if accuracy(model, split.X_test, split.y_test) >= TARGET:
            return epoch
    return None


def best_of(split, make, rates, label, verbose):
    """(best rate, its epochs) over ``rates``; None (never reached) counts as worst."""
    results = {lr: epochs_to_target(split, lambda p, lr=lr: make(p, lr=lr)) for lr in rates}
    if verbose:
        for lr, epochs in results.items():
            print(f"  {label:4} lr={lr:<6} epochs to {TARGET:.0%} test accuracy: "
                  f"{epochs if epochs else f'not within {MAX_EPOCHS}'}")
    best = min(results, key=lambda lr: results[lr] or MAX_EPOCHS + 1)
    return best, results[best]


def main():
    split = digits_split(0)
    print(f"digits, split seed 0: {len(split.y_train)} train, {len(split.y_test)} test; "
          "mini-batches of 64, 3 hidden ReLU layers")
    gd_lr, gd_epochs = best_of(split, GD, GD_RATES, "GD", True)
    adam_lr, adam_epochs = best_of(split, Adam, ADAM_RATES, "Adam", True)
    print(f"best mini-batch GD (lr={gd_lr}): {gd_epochs} epochs | best Adam (lr={adam_lr}): "
          f"{adam_epochs} epochs")
    print("other splits (best of each grid, epochs to target):")
    for seed in (1, 2, 3):
        other = digits_split(seed)
        (g_lr, g), (a_lr, a) = (best_of(other, GD, GD_RATES, "GD", False),
                                best_of(other, Adam, ADAM_RATES, "Adam", False))
        print(f"  split seed {seed}: GD {g} (lr={g_lr})  Adam {a} (lr={a_lr})")


if __name__ == "__main__":
    main()
