"""A small Inception network on the bundled 8x8 digits (>= 97% test accuracy).

    python examples/inception_digits.py [--backend numpy] [--epochs 15] [--seed 0]

Model (dlx.models.inception_net): conv 3x3 (32) -> Inception (56 channels) -> max pool 2
-> Inception (88 channels) -> global average pool -> Dense 10. Adam, lr 0.003 decayed 0.85
per epoch.
"""

import argparse
import time

from dlx import backends
from dlx.data.datasets import load_digits, train_dev_test_split
from dlx.models import inception_net
from dlx.optim.schedules import ExponentialDecay
from dlx.train import LRScheduler, evaluate, fit


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    X, y = load_digits(images=True)
    split = train_dev_test_split(X, y, test=0.2, seed=args.seed)
    model = inception_net((1, 8, 8), 10)
    print(model)
    start = time.perf_counter()
    fit(model, (split.X_train, split.y_train), epochs=args.epochs, batch_size=32, lr=0.003,
        callbacks=[LRScheduler(ExponentialDecay(0.003, 0.85))], verbose=False)
    seconds = time.perf_counter() - start
    test = evaluate(model, (split.X_test, split.y_test))
    print(f"backend {backend.name}: {model.num_parameters()} parameters, {args.epochs} epochs "
          f"in {seconds:.1f} s, test accuracy {test['accuracy']:.4f} ({len(split.y_test)} images)")


if __name__ == "__main__":
    main()
