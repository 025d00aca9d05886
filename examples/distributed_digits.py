"""Data-parallel training on the bundled digits, under mpiexec or in one process.

    mpiexec -n 2 python examples/distributed_digits.py --model cnn --float64 --save dp.npz
    python examples/distributed_digits.py --model cnn --float64 --save one.npz --single
    python examples/distributed_digits.py --throughput          # samples/s for 1 and 2 processes

Each run prints one JSON line from rank 0 (world size, test accuracy, train samples/s of the
epochs after the first) and, with --save, writes the trained parameters (.npz). With the
same global batch size the two runs take the same steps: the parameters agree to rounding.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from dlx import backends
from dlx.data.datasets import load_digits, train_dev_test_split
from dlx.models import cnn, mlp
from dlx.train import fit


def build(name):
    if name == "mlp":
        return mlp([64, 64, 10])
    return cnn((1, 8, 8), 10, channels=(8, 16), hidden=32)


def train(args):
    from dlx.distributed import evaluate, world

    backend = backends.set_backend(args.backend)
    if args.float64:
        backend.default_dtype = backend.xp.float64
    backend.seed(args.seed)
    X, y = load_digits(images=args.model == "cnn")
    data = train_dev_test_split(X, y, dev=0.1, test=0.2, seed=0)
    model = build(args.model)
    history = fit(model, (data.X_train, data.y_train), dev=(data.X_dev, data.y_dev),
                  epochs=args.epochs, batch_size=args.batch_size, optimizer="adam",
                  lr=args.lr, l2=args.l2, verbose=False, distributed=not args.single)
    comm = world("local" if args.single else None)
    test = evaluate(model, (data.X_test, data.y_test), comm=comm)
    if comm.rank == 0:
        speeds = [r["samples_per_s"] for r in history.records[1:]] or \
                 [history.records[-1]["samples_per_s"]]
        print(json.dumps({"model": args.model, "world_size": comm.size,
                          "test_accuracy": test["accuracy"], "test_cost": test["cost"],
                          "dev_accuracy": history.records[-1]["dev_accuracy"],
                          "samples_per_s": sum(speeds) / len(speeds)}))
        if args.save:
            np.savez(args.save, **model.state_dict())


def throughput(args):
    """Samples/s of 1 and 2 processes (one BLAS thread each), as a Markdown table."""
    mpiexec = Path(sys.executable).with_name("mpiexec")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    print("| model | processes | global batch | train samples/s | test accuracy |")
    print("| --- | --- | --- | --- | --- |")
    for model in ("mlp", "cnn"):
        for n in (1, 2):
            cmd = [str(mpiexec), "-n", str(n), sys.executable, __file__, "--model", model,
                   "--epochs", str(args.epochs), "--batch-size", str(args.batch_size)]
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {model} | {n} | {args.batch_size} | {row['samples_per_s']:.0f} | "
                  f"{row['test_accuracy']:.4f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--l2", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--float64", action="store_true")
    parser.add_argument("--single", action="store_true", help="plain fit, no communicator")
    parser.add_argument("--save", help="write the trained parameters to this .npz (rank 0)")
    parser.add_argument("--throughput", action="store_true",
                        help="measure samples/s for 1 and 2 processes under mpiexec")
    args = parser.parse_args()
    throughput(args) if args.throughput else train(args)


if __name__ == "__main__":
    main()
