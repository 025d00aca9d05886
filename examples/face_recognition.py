"""Face-style verification and one-shot recognition on identities never seen in training.

    python examples/face_recognition.py [--data digits|glyphs] [--epochs N] [--seed 0] [--draws 20]
        [--roc docs/vision_roc.png] [--loss triplet|proto|cosine|triplet+cosine] [--validation]

No identity-labelled face data ships in any package, so two stand-ins provide identities:

* ``--data digits`` (default): the digit classes of scikit-learn's 8x8 handwritten digits.
  The encoder is trained on digits 0-6 only and tested on the unseen 7, 8, 9 (3 identities).
* ``--data glyphs``: printed characters (dlx.data.glyphs: 21 fonts matplotlib ships, randomly
  distorted, 16x16), each character an identity. The encoder is trained on the 52 Latin
  letters and the 26 Greek letters that look like no Latin one (78 identities) and tested on
  the unseen ten digits (10 identities), which is closer to face recognition: many training
  identities, new ones at test time.

The encoder (3x3 convolutions and 2x2 max pools down to a 4x4 map, then a 1x1 projection to
``--dim // 16`` channels, flattened: a ``--dim``-d L2-normalised embedding that keeps its 4x4
spatial layout) is trained with the triplet loss and semi-hard mining (or ``--loss``: the
prototypical loss on P-way 1-shot episodes, a cosine softmax over the training identities, or
triplet + cosine; dlx.vision.face) in batches of P identities x K images. Images are
augmented (digits: small rotations; both: noise after standardisation with the training
images' mean and standard deviation). The verification threshold (on the squared embedding
distance) is chosen on dev pairs of held-out images of the training identities. Then, on the
unseen identities:

* verification (1:1): accuracy on all pairs of unseen images at that threshold (+ ROC curve);
* one-shot recognition (1:K), over ``--draws`` random galleries of ONE image of each unseen
  identity; every other unseen image is a query (disjoint from the gallery and the dev set):
  - closed set: the nearest gallery identity is the right one;
  - open set: the same, and within the threshold ("not recognised" counts as an error);
  the same galleries with raw pixels and with the untrained encoder are the baselines;
  - transductive (closed set): the gallery first refined by k-means on the unlabelled
    queries (dlx.vision.face.refine_gallery); no query label is used, but each answer
    depends on the other queries, so this is a different, easier setting;
* strangers: the dev images of the training identities shown to the unseen gallery should be
  "not recognised".

``--validation`` evaluates on identities held out from the training ones instead (digits:
train 0-3, evaluate 4-6; glyphs: train on 42 Latin letters and the Greek ones, evaluate on the
other 10 Latin letters, chosen by the seed), leaving the test identities unused: for comparing
settings without looking at them.
"""

import argparse
import string
import time

import numpy as np

import dlx.nn as nn
from dlx import backends
from dlx.core import Parameter, Tensor, no_grad
from dlx.data.augment import Compose, Noise, RandomRotation
from dlx.data.datasets import load_digits
from dlx.data.glyphs import GLYPH_FONTS, load_glyphs
from dlx.errors import ConfigError
from dlx.optim import Adam
from dlx.vision.face import (best_threshold, cosine_softmax_loss, l2_normalize,
                             mine_triplets, pairwise_squared_distances, prototypical_loss,
                             recognise, refine_gallery, triplet_loss)

LOSSES = ("triplet", "proto", "cosine", "triplet+cosine")


def encoder(dim=128, size=8):
    """(m, 1, size, size) -> (m, dim) before normalisation; dim a multiple of 16, size 4 * 2^k.
    3x3 convolutions (32, then 64 channels, ReLU), a 2x2 max pool after each but the first
    until the map is 4x4, then a 1x1 projection to dim // 16 channels, flattened."""
    layers, channels = [nn.Conv2D(1, 32, 3, padding="same", activation="relu")], 32
    while size > 4:
        layers += [nn.Conv2D(channels, 64, 3, padding="same", activation="relu"), nn.MaxPool2D(2)]
        channels, size = 64, size // 2
    return nn.Sequential(*layers, nn.Conv2D(channels, dim // 16, 1), nn.Flatten())


def embed(model, X, backend):
    model.eval()
    with no_grad():
        out = l2_normalize(model(Tensor(backend.asarray(X)))).data
    model.train()
    return backend.to_host(out)


def pk_batch(by_identity, P, K, rng):
    """Indices of K random images of each of P random identities."""
    ids = rng.choice(len(by_identity), P, replace=False)
    return np.concatenate([rng.choice(by_identity[i], K, replace=False) for i in ids])


def train_encoder(model, X, y, epochs, P=7, K=16, loss="triplet", alpha=0.2,
                  strategy="semi-hard", scale=10.0, augment=None, lr=0.002, seed=0):
    """P x K batches (P identities, K images each), len(y) // (P K) steps an epoch, with
    ``loss`` one of LOSSES: "triplet" (in-batch mining), "proto" (the batch is a P-way 1-shot
    episode: the first image of each identity the support, the other K - 1 the queries),
    "cosine" (a cosine softmax over the training identities, scale ``scale``; its weights are
    dropped afterwards) or "triplet+cosine" (the sum of the two)."""
    if loss not in LOSSES:
        raise ConfigError(f"train_encoder: loss must be one of {LOSSES}, got {loss!r}")
    backend = backends.current()
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    by_identity = [np.flatnonzero(y == c) for c in classes]
    params = list(model.parameters())
    if "cosine" in loss:
        probe = model(Tensor(backend.asarray(X[:1]))).data
        weights = Parameter(backend.asarray(rng.normal(size=(len(classes), probe.shape[1])))
                            .astype(probe.dtype), name="W")
        params.append(weights)
    opt = Adam(params, lr=lr)
    for _ in range(epochs * (len(y) // (P * K))):
        b = pk_batch(by_identity, P, K, rng)
        xb = backend.asarray(X[b])
        emb = l2_normalize(model(Tensor(xb if augment is None else augment(xb))))
        if loss == "proto":
            rows = np.arange(P * K).reshape(P, K)
            cost = prototypical_loss(emb[rows[:, 1:].ravel()], emb[rows[:, 0]],
                                     backend.asarray(np.repeat(np.arange(P), K - 1)), scale)
        else:
            terms = []
            if "triplet" in loss:
                a, p, n = mine_triplets(emb.data, backend.asarray(y[b]), strategy)
                terms.append(triplet_loss(emb[a], emb[p], emb[n], alpha))
            if "cosine" in loss:
                terms.append(cosine_softmax_loss(
                    emb, weights, backend.asarray(np.searchsorted(classes, y[b])), scale))
            cost = sum(terms[1:], terms[0])
        opt.zero_grad()
        cost.backward()
        opt.step()
    return model


def pair_distances(E, labels):
    d = pairwise_squared_distances(E)
    i, j = np.triu_indices(len(labels), 1)
    return d[i, j], labels[i] == labels[j]


def one_shot(E, labels, threshold, galleries):
    """Closed-set, open-set and transductive closed-set accuracy per gallery draw, each
    (draws,)."""
    closed, open_, transductive = [], [], []
    for g in galleries:
        q = np.setdiff1d(np.arange(len(labels)), g)
        nearest = recognise(E[q], E[g], labels[g], float("inf"))
        within = recognise(E[q], E[g], labels[g], threshold)
        refined = recognise(E[q], refine_gallery(E[q], E[g]), labels[g], float("inf"))
        closed.append(float((nearest == labels[q]).mean()))
        open_.append(float((within == labels[q]).mean()))
        transductive.append(float((refined == labels[q]).mean()))
    return np.array(closed), np.array(open_), np.array(transductive)


def draw_galleries(labels, draws, rng):
    return [np.array([rng.choice(np.flatnonzero(labels == c)) for c in np.unique(labels)])
            for _ in range(draws)]


LETTERS = string.ascii_uppercase + string.ascii_lowercase
GREEK = "ΓΔΘΛΞΠΣΦΨΩαβγδεζηθλμξπσφψω"  # the Greek letters that look like no Latin one
GREEK_FONTS = tuple(f for f in GLYPH_FONTS if not f.startswith("cm"))  # CM has no Greek
# per data set: training epochs, P identities x K images per batch, rotation augmentation,
# held-out dev images of the training identities
SETTINGS = {"digits": dict(epochs=10, P=7, K=16, degrees=10.0, n_dev=300),
            "glyphs": dict(epochs=8, P=16, K=8, degrees=0.0, n_dev=600)}


def identities(data="digits", seed=0, validation=False):
    """Raw images in [0, 1] and labels of the training identities and of the unseen ones:
    (X_seen, y_seen, X_unseen, y_unseen, seen_names, unseen_names); see the module docstring."""
    if data == "digits":
        X, y = load_digits(images=True)
        first = 4 if validation else 7
        seen, unseen = y < first, (y >= first) & (y < first + 3)
        return X[seen], y[seen], X[unseen], y[unseen], f"digits 0-{first - 1}", \
            f"digits {first}-{first + 2}"
    if data != "glyphs":
        raise ConfigError(f"identities: data must be 'digits' or 'glyphs', got {data!r}")
    if validation:
        order = np.random.default_rng(seed).permutation(len(LETTERS))
        train_chars = "".join(LETTERS[i] for i in np.sort(order[10:]))
        test_chars = "".join(LETTERS[i] for i in np.sort(order[:10]))
    else:
        train_chars, test_chars = LETTERS, string.digits
    X, y, _ = load_glyphs(train_chars, per_font=10, seed=seed)
    Xg, yg, _ = load_glyphs(GREEK, per_font=13, seed=seed + 2000, fonts=GREEK_FONTS)
    Xu, yu, _ = load_glyphs(test_chars, per_font=5, seed=seed + 1000)
    return np.concatenate([X, Xg]), np.concatenate([y, yg + len(train_chars)]), Xu, yu, \
        f"{len(train_chars)} Latin + {len(GREEK)} Greek letters", \
        ("letters " if validation else "digits ") + test_chars


def run(epochs=None, seed=0, draws=20, dim=128, loss="triplet", alpha=0.2, strategy="semi-hard",
        scale=10.0, augment=True, validation=False, data="digits"):
    """Train on the training identities of ``data``, evaluate on the unseen ones; returns a
    dict of figures (see the module docstring). ``epochs`` defaults to SETTINGS[data]."""
    if data not in SETTINGS:
        raise ConfigError(f"run: data must be one of {tuple(SETTINGS)}, got {data!r}")
    settings = SETTINGS[data]
    epochs = settings["epochs"] if epochs is None else epochs
    backend = backends.current()
    backend.seed(seed)
    X, y, Xu, yu, seen_names, unseen_names = identities(data, seed, validation)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    dev_idx, train_idx = order[:settings["n_dev"]], order[settings["n_dev"]:]
    mean, std = X[train_idx].mean(), X[train_idx].std()

    def standardise(x):
        return (x - mean) / std

    galleries = draw_galleries(yu, draws, rng)
    model = encoder(dim, X.shape[-1])
    untrained, _, untrained_transductive = one_shot(embed(model, standardise(Xu), backend), yu,
                                                    float("inf"), galleries)
    steps = [RandomRotation(settings["degrees"])] if settings["degrees"] else []
    start = time.perf_counter()
    P = min(settings["P"], len(np.unique(y)))  # digits --validation: 4 identities
    train_encoder(model, X[train_idx], y[train_idx], epochs, P=P, K=settings["K"],
                  loss=loss, alpha=alpha, strategy=strategy, scale=scale,
                  augment=Compose(*steps, standardise, Noise(0.1)) if augment else standardise,
                  seed=seed)
    train_s = time.perf_counter() - start

    E_dev = embed(model, standardise(X[dev_idx]), backend)
    dev_d, dev_same = pair_distances(E_dev, y[dev_idx])
    threshold, dev_acc = best_threshold(dev_d, dev_same)
    E = embed(model, standardise(Xu), backend)
    d, same = pair_distances(E, yu)
    closed, open_, transductive = one_shot(E, yu, threshold, galleries)
    raw, _, raw_transductive = one_shot(Xu.reshape(len(yu), -1), yu, float("inf"), galleries)
    strangers = [float((recognise(E_dev, E[g], yu[g], threshold) == -1).mean())
                 for g in galleries]
    return dict(train_s=train_s, n_train=len(train_idx), epochs=epochs, threshold=threshold,
                dev_acc=dev_acc, n_dev_pairs=len(dev_d),
                verification=float(((d <= threshold) == same).mean()),
                pairs=(int(same.sum()), int((~same).sum())), closed=closed, open=open_,
                transductive=transductive, raw=raw, raw_transductive=raw_transductive,
                untrained=untrained, untrained_transductive=untrained_transductive,
                strangers=np.array(strangers), n_queries=len(yu) - len(galleries[0]),
                n_dev=len(dev_idx), seen=seen_names, unseen=unseen_names, d=d, same=same)


def plot_roc(d, same, threshold, path, label):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(d)
    tpr = np.cumsum(same[order]) / same.sum()
    fpr = np.cumsum(~same[order]) / (~same).sum()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(fpr, tpr, label=label)
    t_fpr = ((d <= threshold) & ~same).sum() / (~same).sum()
    t_tpr = ((d <= threshold) & same).sum() / same.sum()
    ax.plot([t_fpr], [t_tpr], "o", label=f"dev threshold {threshold:.2f}")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("verification ROC")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--data", default="digits", choices=tuple(SETTINGS))
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default: digits 10, glyphs 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=20, help="random one-shot galleries")
    parser.add_argument("--alpha", type=float, default=0.2)
    parser.add_argument("--dim", type=int, default=128, help="embedding size, multiple of 16")
    parser.add_argument("--strategy", default="semi-hard", choices=["semi-hard", "hard"])
    parser.add_argument("--loss", default="triplet", choices=LOSSES)
    parser.add_argument("--scale", type=float, default=10.0,
                        help="softmax scale of the proto and cosine losses")
    parser.add_argument("--validation", action="store_true",
                        help="evaluate on held-out training identities (for choosing settings)")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--roc", default=None, help="write the verification ROC curve here")
    args = parser.parse_args()
    if args.dim <= 0 or args.dim % 16:
        parser.error(f"--dim must be a positive multiple of 16 (4x4 positions), got {args.dim}")
    if args.epochs is not None and args.epochs < 0:
        parser.error(f"--epochs must be >= 0, got {args.epochs}")
    backend = backends.set_backend(args.backend)
    r = run(args.epochs, args.seed, args.draws, args.dim, args.loss, args.alpha, args.strategy,
            args.scale, not args.no_augment, validation=args.validation, data=args.data)
    seen, unseen = r["seen"], r["unseen"]

    def ms(a):
        return f"{a.mean():.4f} ± {a.std():.4f}"

    print(f"encoder trained on {seen} ({r['n_train']} images, {r['epochs']} epochs, "
          f"loss {args.loss}, {r['train_s']:.1f} s, backend {backend.name}, seed {args.seed})")
    print(f"threshold on squared distance chosen on {r['n_dev_pairs']} dev pairs ({seen}): "
          f"{r['threshold']:.3f} (dev accuracy {r['dev_acc']:.4f})")
    print(f"unseen {unseen}: verification accuracy {r['verification']:.4f} on "
          f"{sum(r['pairs'])} pairs ({r['pairs'][0]} same, {r['pairs'][1]} different)")
    print(f"one-shot recognition, 1 gallery image each of {unseen}, {r['n_queries']} queries, "
          f"mean ± std over {args.draws} gallery draws:")
    print(f"  closed set (nearest gallery identity)      {ms(r['closed'])}")
    print(f"  open set (also within the threshold)        {ms(r['open'])}")
    print(f"  baselines, closed set: raw pixels {ms(r['raw'])}, untrained encoder "
          f"{ms(r['untrained'])}")
    print(f"  transductive (gallery refined on the unlabelled queries) {ms(r['transductive'])}; "
          f"raw pixels {ms(r['raw_transductive'])}, untrained {ms(r['untrained_transductive'])}")
    print(f"strangers: {ms(r['strangers'])} of {r['n_dev']} images of {seen} "
          f"'not recognised' by the {unseen} gallery")
    if args.roc:
        plot_roc(r["d"], r["same"], r["threshold"], args.roc, f"{unseen} (unseen)")
        print(f"wrote {args.roc}")


if __name__ == "__main__":
    main()
