"""Transfer learning and augmentation on small data: digits 0-4 -> digits 5-9.

    python examples/transfer_digits.py [--backend numpy] [--per-class 50] [--seed 0]

1. A CNN (dlx.models.cnn) is trained on every image of digits 0-4 and saved as a
   checkpoint, which is then loaded back (as one would load a downloaded network).
2. Digits 5-9 get only ``--per-class`` training images each; the rest are the test set.
   a. transfer: the 0-4 network's dense head (Dense 128 ReLU, Dense 5) is replaced by one
      new random Dense(1024, 5) on the convolutional features, the body is frozen, its
      activations on the training images are computed once (cached_features), and only
      the head trains on them;
   b. scratch: the same architecture trained from random weights on the 250 images;
   c. scratch + augmentation: (b) with random one-pixel shifts per batch (the set that helped
      on every seed in examples/augment_digits.py);
   d. fine-tune: (a), then the whole network unfrozen and trained briefly at a low rate.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import dlx.nn as nn
from dlx import backends
from dlx.data.augment import RandomShift
from dlx.data.datasets import load_digits
from dlx.models import build_model, cnn
from dlx.train import build_model as load_model
from dlx.train import evaluate, fit, load_checkpoint, save_checkpoint


def small_split(X, y, per_class, seed):
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        train.append(idx[:per_class])
        test.append(idx[per_class:])
    train, test = np.concatenate(train), np.concatenate(test)
    return (X[train], y[train]), (X[test], y[test])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    backend = backends.set_backend(args.backend)
    start = time.perf_counter()

    X, y = load_digits(images=True)
    low, high = y < 5, y >= 5
    backend.seed(args.seed)
    base = build_model("cnn", (1, 8, 8), 5, channels=(32, 64), hidden=128)
    fit(base, (X[low], y[low]), epochs=10, batch_size=32, lr=0.003, verbose=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_checkpoint(Path(tmp) / "digits04.npz", base)
        base = load_model(load_checkpoint(path))
    (Xs, ys), (Xt, yt) = small_split(X[high], y[high] - 5, args.per_class, args.seed)
    print(f"base network on digits 0-4: {low.sum()} images; digits 5-9: {len(ys)} training, "
          f"{len(yt)} test images")

    # (a) transfer: new head on frozen, cached features
    backend.seed(args.seed + 1)
    model = nn.replace_head(base, nn.Dense(1024, 5), n_layers=2)
    body = nn.Sequential(*model.layers[:-1])
    nn.freeze(body)
    features = nn.cached_features(body, Xs)
    fit(model.layers[-1], (features, ys), epochs=100, batch_size=50, lr=0.003, verbose=False)
    results = {"transfer (head only)": evaluate(model, (Xt, yt))["accuracy"]}

    # (d) fine-tune the whole network briefly
    nn.unfreeze(body)
    fit(model, (Xs, ys), epochs=10, batch_size=25, lr=3e-4, verbose=False)
    results["transfer + fine-tune"] = evaluate(model, (Xt, yt))["accuracy"]

    # (b), (c) from scratch, same seeds, without and with augmentation
    augment = RandomShift(1)
    for name, aug in (("scratch", None), ("scratch + augmentation", augment)):
        backend.seed(args.seed + 2)
        scratch = cnn((1, 8, 8), 5, channels=(32, 64), hidden=128)
        fit(scratch, (Xs, ys), epochs=60, batch_size=25, lr=0.003, augment=aug, verbose=False)
        results[name] = evaluate(scratch, (Xt, yt))["accuracy"]

    for name, acc in results.items():
        print(f"  {name:<24s} test accuracy on digits 5-9: {acc:.4f}")
    print(f"backend {backend.name}, seed {args.seed}, {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
