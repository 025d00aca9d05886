"""Resident memory of 200 epochs of the MLP on digits: epoch 200 must be within 5% of epoch 1.

    python tools/memory_digits.py [--epochs 200] [--backend numpy]

Trains ``dlx.models.build_model("mlp", ...)`` on the bundled digits (standardised) with
Adam, writing a checkpoint every epoch as ``dlx train`` does, and reads the process's
resident set size (``/proc/self/statm``, else psutil) after every epoch. Prints the RSS at
epochs 1, 10, 100 and the last, and the change from epoch 1; exit status 1 when it exceeds
``--tolerance`` (5%).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def rss_mib() -> float:
    """Current resident set size of this process in MiB."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss / 2 ** 20


def run(epochs: int, backend: str, workdir: Path) -> list[float]:
    import dlx.backends as B
    from dlx.data import load_digits
    from dlx.models import build_model
    from dlx.train import Callback, Checkpoint, fit
    from dlx.train.prepare import Preparation, split

    class RecordRSS(Callback):
        order = 200  # after the checkpoint is written

        def __init__(self):
            self.values = []

        def on_epoch_end(self, trainer, logs):
            self.values.append(rss_mib())

    B.set_backend(backend)
    B.current().seed(0)
    data = split(*load_digits())
    prep = Preparation.fit(data.X_train, "features")
    train = (prep.apply(data.X_train), data.y_train)
    dev = (prep.apply(data.X_dev), data.y_dev)
    model = build_model("mlp", train[0].shape[1:], data.n_classes)
    record = RecordRSS()
    fit(model, train, dev=dev, epochs=epochs, batch_size=64, lr=0.003, verbose=False,
        callbacks=[Checkpoint(workdir / "checkpoint.npz", best_path=workdir / "best.npz",
                              monitor="dev_accuracy"), record])
    return record.values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        values = run(args.epochs, args.backend, Path(tmp))
    for epoch in sorted({1, 10, 100, len(values)} & set(range(1, len(values) + 1))):
        print(f"epoch {epoch:>4}: RSS {values[epoch - 1]:.1f} MiB")
    change = values[-1] / values[0] - 1
    print(f"epoch {len(values)} vs epoch 1: {change:+.2%} (tolerance {args.tolerance:.0%}); "
          f"peak over the run {max(values):.1f} MiB")
    return 0 if abs(change) <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
