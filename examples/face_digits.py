"""Face-style verification and one-shot recognition on identities never seen in training.

    python examples/face_digits.py [--epochs 25] [--seed 0] [--roc docs/vision_roc.png]

No identity-labelled face data ships in any package, so the digit classes stand in for
identities: the encoder (a small CNN -> 16-d L2-normalised embedding) is trained with the
triplet loss and semi-hard mining on digits 0-6 only. The verification threshold (on the
squared embedding distance) is chosen on dev pairs of held-out 0-6 images. Then, on the
unseen digits 7-9:
* verification (1:1): accuracy on all pairs of test images at that threshold (+ ROC curve);
* one-shot recognition (1:K): one gallery image per identity 7, 8, 9; every other 7-9
  image is recognised as the nearest gallery identity, or "not recognised" beyond the
  threshold (counted as an error);
* open set: images of 0-6 shown to the 7-9 gallery should come back "not recognised".
"""

import argparse
import time

import numpy as np

import dlx.nn as nn
from dlx import backends
from dlx.core import Tensor, no_grad
from dlx.data.augment import Compose, Noise, RandomRotation, RandomShift
from dlx.data.datasets import load_digits
from dlx.optim import Adam
from dlx.vision.face import (best_threshold, l2_normalize, mine_triplets,
                             pairwise_squared_distances, recognise, triplet_loss)


def encoder(dim=16):
    return nn.Sequential(nn.Conv2D(1, 32, 3, padding="same", activation="relu"),
                         nn.Conv2D(32, 64, 3, padding="same", activation="relu"), nn.MaxPool2D(2),
                         nn.Flatten(), nn.Dense(64 * 16, 128, "relu"), nn.Dense(128, dim))


def embed(model, X, backend):
    model.eval()
    with no_grad():
        out = l2_normalize(model(Tensor(backend.asarray(X)))).data
    model.train()
    return out


def pair_distances(E, labels):
    d = pairwise_squared_distances(E)
    i, j = np.triu_indices(len(labels), 1)
    return d[i, j], labels[i] == labels[j]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=0.2)
    parser.add_argument("--dim", type=int, default=16, help="embedding size")
    parser.add_argument("--strategy", default="semi-hard", choices=["semi-hard", "hard"])
    parser.add_argument("--augment", action="store_true",
                        help="random shifts, rotations and noise on every training batch")
    parser.add_argument("--roc", default=None, help="write the verification ROC curve here")
    args = parser.parse_args()
    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    start = time.perf_counter()
    X, y = load_digits(images=True)
    rng = np.random.default_rng(args.seed)
    seen = np.flatnonzero(y < 7)
    seen = rng.permutation(seen)
    dev_idx, train_idx = seen[:300], seen[300:]
    unseen = rng.permutation(np.flatnonzero(y >= 7))

    model = encoder(args.dim)
    augment = Compose(RandomShift(1), RandomRotation(10), Noise(0.05)) if args.augment else None
    opt = Adam(model.parameters(), lr=0.002)
    Xt, yt = backend.asarray(X[train_idx]), backend.asarray(y[train_idx])
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_idx))
        for k in range(0, len(order), 96):
            b = backend.asarray(order[k:k + 96])
            xb = Xt[b] if augment is None else augment(Xt[b])
            emb = l2_normalize(model(Tensor(xb)))
            a, p, n = mine_triplets(emb.data, yt[b], args.strategy)
            loss = triplet_loss(emb[a], emb[p], emb[n], args.alpha)
            opt.zero_grad()
            loss.backward()
            opt.step()
    train_s = time.perf_counter() - start

    dev_d, dev_same = pair_distances(embed(model, X[dev_idx], backend), y[dev_idx])
    threshold, dev_acc = best_threshold(dev_d, dev_same)

    E = embed(model, X[unseen], backend)
    d, same = pair_distances(E, y[unseen])
    ver_acc = float(((d <= threshold) == same).mean())

    gallery = np.array([np.flatnonzero(y[unseen] == c)[0] for c in (7, 8, 9)])
    queries = np.setdiff1d(np.arange(len(unseen)), gallery)
    pred = recognise(E[queries], E[gallery], y[unseen][gallery], threshold)
    rec_acc = float((backend.to_host(pred) == y[unseen][queries]).mean())
    nearest_only = recognise(E[queries], E[gallery], y[unseen][gallery], float("inf"))
    nn_acc = float((backend.to_host(nearest_only) == y[unseen][queries]).mean())
    raw = X[unseen].reshape(len(unseen), -1)
    raw_pred = recognise(raw[queries], raw[gallery], y[unseen][gallery], float("inf"))
    raw_acc = float((raw_pred == y[unseen][queries]).mean())
    strangers = recognise(embed(model, X[dev_idx], backend), E[gallery], y[unseen][gallery],
                          threshold)
    rejected = float((backend.to_host(strangers) == -1).mean())

    print(f"encoder trained on digits 0-6 ({len(train_idx)} images, {args.epochs} epochs, "
          f"{train_s:.1f} s, backend {backend.name}, seed {args.seed})")
    print(f"threshold on squared distance chosen on {len(dev_d)} dev pairs (digits 0-6): "
          f"{threshold:.3f} (dev accuracy {dev_acc:.4f})")
    print(f"unseen digits 7-9: verification accuracy {ver_acc:.4f} on {len(d)} pairs "
          f"({int(same.sum())} same, {int((~same).sum())} different)")
    print(f"one-shot recognition (1 gallery image each of 7, 8, 9) on {len(queries)} images: "
          f"{rec_acc:.4f} with the threshold, {nn_acc:.4f} nearest-only "
          f"(raw pixels, same gallery: {raw_acc:.4f})")
    print(f"open set: {rejected:.4f} of {len(dev_idx)} images of digits 0-6 'not recognised'")
    if args.roc:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        order = np.argsort(d)
        tpr = np.cumsum(same[order]) / same.sum()
        fpr = np.cumsum(~same[order]) / (~same).sum()
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.plot(fpr, tpr, label="digits 7-9 (unseen)")
        t_fpr = ((d <= threshold) & ~same).sum() / (~same).sum()
        t_tpr = ((d <= threshold) & same).sum() / same.sum()
        ax.plot([t_fpr], [t_tpr], "o", label=f"dev threshold {threshold:.2f}")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title("verification ROC")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(args.roc, dpi=100)
        print(f"wrote {args.roc}")


if __name__ == "__main__":
    main()
