"""A small CNN on the bundled 8x8 digits: >= 98% test accuracy in seconds on a CPU.

    python examples/cnn_digits.py [--backend numpy] [--epochs 12] [--seed 0]

Model (dlx.models.cnn): Conv 3x3 same (32) + ReLU -> Conv 3x3 same (64) + ReLU -> max pool 2
-> Flatten -> Dense 128 ReLU -> Dense 10 logits. Adam, lr 0.003 decayed by 0.75 per epoch.
"""

import argparse
import time

from dlx import backends
from dlx.data.datasets import load_digits, train_dev_test_split
from dlx.models import cnn
from dlx.optim.schedules import ExponentialDecay
from dlx.train import LRScheduler, evaluate, fit


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    X, y = load_digits(images=True)  # (1797, 1, 8, 8) in [0, 1]
    split = train_dev_test_split(X, y, test=0.2, seed=args.seed)
    model = cnn((1, 8, 8), 10, channels=(32, 64), hidden=128)
    print(model)

    lr = 0.003
    start = time.perf_counter()
    # the test set stays unseen until the final evaluation
    fit(model, (split.X_train, split.y_train),
        epochs=args.epochs, batch_size=32, optimizer="adam", lr=lr,
        callbacks=[LRScheduler(ExponentialDecay(lr, 0.75))], verbose=False)
    seconds = time.perf_counter() - start
    test = evaluate(model, (split.X_test, split.y_test))
    print(f"backend {backend.name}: {args.epochs} epochs in {seconds:.1f} s, "
          f"test accuracy {test['accuracy']:.4f} ({len(split.y_test)} images)")


if __name__ == "__main__":
    main()
