"""Adam vs plain mini-batch gradient descent on the bundled 8x8 digits, on a fair protocol.

Model and data: a 3-hidden-layer ReLU net (64-128-64-32-10, He init), mini-batches of 64,
pixels in [0, 1], float32, NumPy backend; digits split 60% train / 20% dev / 20% test
(stratified, split seed 0). "Epochs to target" is the first epoch after which accuracy is
>= 96% (a run that never gets there within 30 epochs counts as 31).

Protocol:
1. Tuning, on the DEV split only: every learning rate of each optimiser's grid is trained
   with seeds 0-4 (initialisation and shuffling); the rate with the lowest median epochs to
   96% dev accuracy wins (ties: the lower mean).
2. Report, on the TEST split: each optimiser at its chosen rate, with 10 fresh seeds
   (100-109); the median epochs to 96% test accuracy and every seed's count.
BLAS is pinned to one thread (threadpoolctl; ``--threads N`` to pin another count), so every
count is bit-for-bit reproducible: the same seed, backend, dtype and thread count give the
same bits.

    python examples/optimizers_digits.py [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics

import dlx.backends as B
from dlx import functional as F
from dlx import nn, no_grad
from dlx.data import MiniBatches, load_digits, train_dev_test_split
from dlx.optim import GD, Adam

TARGET = 0.96
MAX_EPOCHS = 30
NEVER = MAX_EPOCHS + 1
GRIDS = {"GD": (GD, (0.03, 0.1, 0.3, 0.5, 1.0)),
         "Adam": (Adam, (0.0003, 0.001, 0.003, 0.01, 0.03))}
TUNING_SEEDS = range(5)
REPORT_SEEDS = range(100, 110)


def digits_split(seed: int = 0):
    """60% train / 20% dev / 20% test, stratified; pixels already scaled to [0, 1]."""
    X, y = load_digits()
    return train_dev_test_split(X, y, dev=0.2, test=0.2, seed=seed)


def build_net(seed: int):
    B.current().seed(seed)
    return nn.Sequential(nn.Dense(64, 128, "relu"), nn.Dense(128, 64, "relu"),
                         nn.Dense(64, 32, "relu"), nn.Dense(32, 10))


def accuracy(model, X, y) -> float:
    model.eval()
    with no_grad():
        pred = model(B.current().asarray(X)).data.argmax(axis=1)
    model.train()
    return float((B.current().to_host(pred) == y).mean())


def epochs_to_target(split, optimizer, lr, seed, on="dev") -> int:
    """Mini-batches of 64; the first epoch whose accuracy on ``on`` >= TARGET, else NEVER."""
    X_eval, y_eval = (split.X_dev, split.y_dev) if on == "dev" else (split.X_test, split.y_test)
    model = build_net(seed)
    opt = optimizer(model.parameters(), lr=lr)
    batches = MiniBatches(split.X_train, split.y_train, batch_size=64)
    for epoch in range(1, MAX_EPOCHS + 1):
        for xb, yb in batches:
            opt.zero_grad()
            F.softmax_cross_entropy(model(xb), yb).backward()
            opt.step()
        if accuracy(model, X_eval, y_eval) >= TARGET:
            return epoch
    return NEVER


def tune(split, name) -> float:
    """The grid's rate with the lowest median epochs to TARGET dev accuracy (prints the grid)."""
    optimizer, rates = GRIDS[name]
    scores = {}
    for lr in rates:
        counts = [epochs_to_target(split, optimizer, lr, s, on="dev") for s in TUNING_SEEDS]
        scores[lr] = (statistics.median(counts), statistics.mean(counts))
        print(f"  {name:4} lr={lr:<6} dev epochs per seed {fmt(counts)}  median "
              f"{fmt([scores[lr][0]])}")
    return min(rates, key=lambda lr: scores[lr])


def fmt(counts) -> str:
    return " ".join(f">{MAX_EPOCHS}" if c == NEVER else f"{c:g}" for c in counts)


def main():
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    threads = parser.parse_args().threads
    with threadpool_limits(limits=threads, user_api="blas"):
        B.set_backend("numpy")
        split = digits_split(0)
        print(f"digits, split seed 0: {len(split.y_train)} train, {len(split.y_dev)} dev, "
              f"{len(split.y_test)} test; mini-batches of 64, 3 hidden ReLU layers, {threads} "
              f"BLAS thread(s); target {TARGET:.0%} within {MAX_EPOCHS} epochs")
        print(f"1. tuning on dev, seeds {TUNING_SEEDS.start}-{TUNING_SEEDS.stop - 1}:")
        chosen = {name: tune(split, name) for name in GRIDS}
        print(f"2. test split at the chosen rates, seeds {REPORT_SEEDS.start}-"
              f"{REPORT_SEEDS.stop - 1}:")
        medians = {}
        for name, lr in chosen.items():
            counts = [epochs_to_target(split, GRIDS[name][0], lr, s, on="test")
                      for s in REPORT_SEEDS]
            medians[name] = statistics.median(counts)
            print(f"  {name:4} lr={lr:<6} test epochs per seed {fmt(counts)}  median "
                  f"{fmt([medians[name]])}")
        verdict = "holds" if medians["Adam"] < medians["GD"] else "does NOT hold"
        print(f"Adam reaches {TARGET:.0%} in fewer epochs than GD at its best rate: {verdict} "
              f"(median {fmt([medians['Adam']])} vs {fmt([medians['GD']])})")


if __name__ == "__main__":
    main()
