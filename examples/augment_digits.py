"""Does augmentation help the from-scratch small-data run? Digits 5-9, few images per class.

    python examples/augment_digits.py [--seeds 0 1 2 3 4] [--per-class 50] [--epochs 60]

The from-scratch setup of examples/transfer_digits.py (the same CNN, 60 epochs, batch 25,
Adam 0.003) on ``--per-class`` training images of each digit 5-9, the rest as the test set,
trained without and with ``fit(augment=...)`` for several augmentation sets. Each seed draws
its own split and initialisation (the same for every set of that seed), so the mean ± std
over seeds compares the sets fairly. Whole-pixel shifts, small rotations and noise only: a
mirrored digit is not a digit, so no horizontal flip.
"""

import argparse
import time

import numpy as np

from dlx import backends
from dlx.data.augment import Compose, Jitter, Noise, RandomRotation, RandomShift
from dlx.data.datasets import load_digits
from dlx.models import cnn
from dlx.train import evaluate, fit
from transfer_digits import small_split

AUGMENTATIONS = {
    "none": None,
    "rotate 8 + noise 0.03": Compose(RandomRotation(8), Noise(0.03)),
    "shift 1": RandomShift(1),
    "shift 1 + rotate 10 + noise 0.05": Compose(RandomShift(1), RandomRotation(10), Noise(0.05)),
    "shift 1 + rotate 12 + jitter + noise": Compose(RandomShift(1), RandomRotation(12),
                                                    Jitter(0.1, 0.1), Noise(0.05)),
}


def scratch_accuracy(train, test, augment, seed, epochs):
    backends.current().seed(seed)
    model = cnn((1, 8, 8), 5, channels=(32, 64), hidden=128)
    fit(model, train, epochs=epochs, batch_size=25, lr=0.003, augment=augment, verbose=False)
    return evaluate(model, test)["accuracy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    backends.set_backend(args.backend)
    start = time.perf_counter()
    X, y = load_digits(images=True)
    high = y >= 5
    results = {name: [] for name in AUGMENTATIONS}
    for seed in args.seeds:
        train, test = small_split(X[high], y[high] - 5, args.per_class, seed)
        for name, augment in AUGMENTATIONS.items():
            results[name].append(scratch_accuracy(train, test, augment, seed + 2, args.epochs))
        print(f"seed {seed}: " + ", ".join(f"{acc[-1]:.4f}" for acc in results.values()),
              flush=True)
    base = np.array(results["none"])
    print(f"digits 5-9 from scratch, {args.per_class} training images per class, "
          f"{len(test[1])} test images, seeds {args.seeds}:")
    for name, accs in results.items():
        accs = np.array(accs)
        gain = accs - base
        print(f"  {name:<38s} {accs.mean():.4f} ± {accs.std(ddof=1):.4f}   vs none "
              f"{gain.mean():+.4f} ± {gain.std(ddof=1):.4f} (better on "
              f"{int((gain > 0).sum())}/{len(gain)} seeds, worse on {int((gain < 0).sum())})")
    print(f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
