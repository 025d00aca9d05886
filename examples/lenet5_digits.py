"""LeNet-5 on the bundled digits, upsampled from 8x8 to 32x32 (the network's input size).

    python examples/lenet5_digits.py [--classic] [--epochs 10] [--backend numpy]

``--classic`` uses the 1998 choices (tanh, average pooling); the default the modern ones
(ReLU, max pooling). Each 8x8 pixel becomes a 4x4 block (nearest-neighbour upsampling).
"""

import argparse
import time

import numpy as np

from dlx import backends
from dlx.data.datasets import load_digits, train_dev_test_split
from dlx.models import lenet5
from dlx.optim.schedules import ExponentialDecay
from dlx.train import LRScheduler, evaluate, fit


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--classic", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    X, y = load_digits(images=True)
    X = np.repeat(np.repeat(X, 4, axis=2), 4, axis=3)  # (1797, 1, 32, 32)
    split = train_dev_test_split(X, y, test=0.2, seed=args.seed)
    model = lenet5((1, 32, 32), 10, modern=not args.classic)
    print(model)

    lr = 0.002
    start = time.perf_counter()
    # the test set stays unseen until the final evaluation
    fit(model, (split.X_train, split.y_train),
        epochs=args.epochs, batch_size=32, optimizer="adam", lr=lr,
        callbacks=[LRScheduler(ExponentialDecay(lr, 0.8))], verbose=False)
    seconds = time.perf_counter() - start
    test = evaluate(model, (split.X_test, split.y_test))
    print(f"LeNet-5 ({'classic' if args.classic else 'modern'}) on {backend.name}: "
          f"{args.epochs} epochs in {seconds:.1f} s, test accuracy {test['accuracy']:.4f}")


if __name__ == "__main__":
    main()
