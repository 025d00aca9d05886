"""One training step of an Embedding table, dense gradient vs row-sparse (``sparse=True``).

    python benchmarks/sparse_embedding.py [--vocab 50000] [--dims 100 300] [--batch 64 20]
                                          [--optimizers gd adam] [--repeat 5] [--backend numpy]

The step: look up a (64, 20) batch of token ids (Zipf-distributed, as words are), average
over the 20 positions, a linear read-out to 5 classes, softmax cross-entropy, backward and
the optimiser's step. Dense: the gradient is a (V, d) array and every row is updated;
sparse: only the distinct looked-up rows (their count is printed). Prints the best of
``--repeat`` steps of each, in milliseconds, and the ratio.
"""

import argparse
import time

import dlx.functional as F
import dlx.nn as nn
from dlx import backends
from dlx.optim import GD, Adam

OPTIMIZERS = {"gd": lambda p: GD(p, lr=0.1), "adam": lambda p: Adam(p, lr=1e-3)}


def build(V, d, sparse, optimizer):
    emb = nn.Embedding(V, d, sparse=sparse, std=0.1)
    head = nn.Dense(d, 5)
    params = [emb.weight, *head.parameters()]
    return emb, head, OPTIMIZERS[optimizer](params)


def step(emb, head, opt, ids, labels):
    opt.zero_grad()
    loss = F.softmax_cross_entropy(head(emb(ids).mean(axis=1)), labels)
    loss.backward()
    opt.step()


def best_ms(fn, repeat, sync):
    fn()  # warm-up: allocates the optimiser state
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=50000)
    parser.add_argument("--dims", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--batch", type=int, nargs=2, default=[64, 20])
    parser.add_argument("--optimizers", nargs="+", default=["gd", "adam"], choices=OPTIMIZERS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", default="numpy")
    args = parser.parse_args()
    backend = backends.set_backend(args.backend)
    xp = backend.xp
    rng = xp.random.default_rng(0)
    m, T = args.batch
    ids = (rng.zipf(1.3, size=(m, T)) - 1) % args.vocab
    labels = rng.integers(0, 5, size=m)
    touched = int(xp.unique(ids).shape[0])

    def sync():
        float(emb.weight.data[0, 0])  # waits for a device queue

    print(f"backend {args.backend}, V={args.vocab}, batch {m}x{T} ({touched} distinct rows)")
    print(f"{'d':>5} {'optimiser':<9} {'dense ms':>9} {'sparse ms':>10} {'dense/sparse':>13}")
    for d in args.dims:
        for name in args.optimizers:
            times = {}
            for sparse in (False, True):
                emb, head, opt = build(args.vocab, d, sparse, name)
                times[sparse] = best_ms(lambda: step(emb, head, opt, ids, labels),
                                        args.repeat, sync)
            print(f"{d:>5} {name:<9} {times[False]:>9.2f} {times[True]:>10.2f} "
                  f"{times[False] / times[True]:>12.1f}x", flush=True)


if __name__ == "__main__":
    main()
