"""Face verification and recognition with the triplet loss (Schroff et al. 2015, FaceNet;
course 4 week 4).

An encoder f maps an image to an L2-normalised embedding (||f(x)|| = 1). With anchor A,
positive P (same identity) and negative N (another identity), squared distances as the
course writes them:

    L(A, P, N) = max(||f(A) - f(P)||^2 - ||f(A) - f(N)||^2 + alpha, 0)

No square root is taken, so the gradient exists everywhere (also at zero distance). The
cost is the mean over the valid triplets (those given, or those with L > 0 when
``positive_only``), and 0 with a zero gradient when there are none.

Mining inside a batch, for every (anchor, positive) pair of one identity:
* hard: the negative closest to the anchor;
* semi-hard: the closest negative that is still farther than the positive,
  d(A, N) > d(A, P) (its loss is positive while d(A, N) < d(A, P) + alpha); where every
  negative is closer than the positive, the farthest of them — not the hardest, which
  makes training collapse (FaceNet, section 3.2; TensorFlow Addons' semi-hard loss does
  the same).

Verification (1:1): same identity when d = ||f(x1) - f(x2)||^2 <= threshold, the threshold chosen
on a dev set (the one with the best accuracy). Recognition (1:K): the gallery identity
closest to f(x), or "not recognised" (-1) when even that one is farther than the threshold
(squared distances throughout).

Two classification-style losses train the same embedding and are known to transfer better
to unseen identities in few-shot learning (both take L2-normalised embeddings, so a scale s
sets the softmax's sharpness):

* :func:`prototypical_loss` (Snell, Swersky, Zemel 2017, "Prototypical Networks for Few-shot
  Learning"): an episode of N identities with one support embedding c_j each (N-way 1-shot)
  and queries q_i of those identities; ``-log softmax_j(-s ||q_i - c_j||^2)[y_i]``, the mean
  over the queries. It trains exactly the 1:K nearest-gallery rule used at test time.
* :func:`cosine_softmax_loss` (Chen et al. 2019, "A Closer Look at Few-shot
  Classification", baseline++): a weight vector w_k per training identity and
  ``-log softmax_k(s cos(f(x), w_k))[y]``; only f is kept after training.

Transductive recognition (an option, not the plain 1:K above): with a whole set of unlabelled
queries at hand, :func:`refine_gallery` moves each gallery embedding to the mean of itself and
the queries nearest to it, repeatedly (k-means seeded by the gallery, every centroid keeping
its labelled example; as in Ren et al. 2018, "Meta-learning for semi-supervised few-shot
classification", with hard assignments). Only the queries' embeddings are used, never their
labels, but each answer then depends on the other queries.
"""

from __future__ import annotations

from dlx import backends
from dlx import functional as F
from dlx.core import Tensor, as_tensor
from dlx.errors import ConfigError, ShapeError


def l2_normalize(x, axis: int = -1, eps: float = 1e-12):
    """x / sqrt(sum(x^2) + eps) along ``axis`` (differentiable)."""
    x = as_tensor(x)
    return x / ((x * x).sum(axis=axis, keepdims=True) + eps) ** 0.5


def squared_distances(a, b):
    """||a_i - b_i||^2 row by row: (n, d), (n, d) -> (n,)."""
    diff = as_tensor(a) - b
    return (diff * diff).sum(axis=1)


def triplet_loss(anchor, positive, negative, alpha: float = 0.2, positive_only: bool = False):
    """Mean triplet loss over (n, d) embeddings; see the module docstring."""
    anchor = as_tensor(anchor)
    if anchor.ndim != 2 or as_tensor(positive).shape != anchor.shape \
            or as_tensor(negative).shape != anchor.shape:
        raise ShapeError(f"triplet_loss: anchor, positive and negative must be equal (n, d), "
                         f"got {tuple(anchor.shape)}, {tuple(as_tensor(positive).shape)}, "
                         f"{tuple(as_tensor(negative).shape)}")
    if alpha < 0:
        raise ConfigError(f"triplet_loss: the margin alpha must be >= 0, got {alpha}")
    per = F.relu(squared_distances(anchor, positive) - squared_distances(anchor, negative)
                 + alpha)
    count = float((per.data > 0).sum()) if positive_only else per.shape[0]
    return per.sum() * (1.0 / max(count, 1.0))  # guarded: no valid triplet -> 0


def _squared_distance_matrix(a, b):
    """Differentiable (n, d), (k, d) -> (n, k) matrix of ||a_i - b_j||^2."""
    n, k = a.shape[0], b.shape[0]
    return ((a * a).sum(axis=1).reshape(n, 1) + (b * b).sum(axis=1).reshape(1, k)
            - 2.0 * (a @ b.T))


def _scaled_pair(fn, a_name, a, b_name, b, scale):
    """Tensors a (n, d) and b (k, d) of one width for a scaled-softmax loss, and scale > 0."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ShapeError(f"{fn}: {a_name} and {b_name} must share d, "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")
    if scale <= 0:
        raise ConfigError(f"{fn}: scale must be > 0, got {scale}")
    return a, b


def prototypical_loss(queries, support, labels, scale: float = 10.0):
    """Mean over queries of -log softmax_j(-scale ||q_i - c_j||^2)[labels_i].

    queries (q, d), support (k, d) one embedding per identity of the episode, labels (q,)
    integers in [0, k): the support row of each query's identity. See the module docstring.
    """
    queries, support = _scaled_pair("prototypical_loss", "queries (q, d)", queries,
                                    "support (k, d)", support, scale)
    return F.softmax_cross_entropy(-scale * _squared_distance_matrix(queries, support), labels)


def cosine_softmax_loss(embeddings, weights, labels, scale: float = 10.0):
    """Mean of -log softmax_k(scale cos(e_i, w_k))[labels_i]: embeddings (m, d), weights
    (K, d) one row per training identity, labels (m,) in [0, K). See the module docstring."""
    embeddings, weights = _scaled_pair("cosine_softmax_loss", "embeddings (m, d)", embeddings,
                                       "weights (K, d)", weights, scale)
    cosine = l2_normalize(embeddings) @ l2_normalize(weights).T
    return F.softmax_cross_entropy(scale * cosine, labels)


def pairwise_squared_distances(a, b=None):
    """(n, d), (k, d) -> (n, k) matrix of ||a_i - b_j||^2 (backend arrays, no graph);
    b defaults to a."""
    a = a.data if isinstance(a, Tensor) else a
    b = a if b is None else (b.data if isinstance(b, Tensor) else b)
    xp = backends.backend_of(a).xp
    return xp.maximum((a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :]
                      - 2 * a @ b.T, 0)


def mine_triplets(embeddings, labels, strategy: str = "semi-hard"):
    """(anchor, positive, negative) index arrays for every same-label pair of the batch,
    with a hard or semi-hard negative each; see the module docstring."""
    if strategy not in ("hard", "semi-hard"):
        raise ConfigError(f"mine_triplets: strategy must be 'hard' or 'semi-hard', got "
                          f"{strategy!r}")
    d = pairwise_squared_distances(embeddings)
    xp = backends.backend_of(d).xp
    n = d.shape[0]
    if labels.shape != (n,):
        raise ShapeError(f"mine_triplets: labels must be ({n},), got {tuple(labels.shape)}")
    same = labels[:, None] == labels[None, :]
    a, p = xp.nonzero(same & ~xp.eye(n, dtype=bool))
    neg = ~same[a]                                    # (pairs, n) candidate negatives
    d_an, d_ap = d[a], d[a, p][:, None]
    big = xp.asarray(float("inf"), dtype=d.dtype)
    hard = xp.argmin(xp.where(neg, d_an, big), axis=1)
    if strategy == "hard":
        chosen = hard
    else:
        window = neg & (d_an > d_ap)
        semi = xp.argmin(xp.where(window, d_an, big), axis=1)
        easiest = xp.argmax(xp.where(neg, d_an, -big), axis=1)
        chosen = xp.where(window.any(axis=1), semi, easiest)
    has_negative = neg.any(axis=1)
    return a[has_negative], p[has_negative], chosen[has_negative]


def best_threshold(distances, same):
    """The distance threshold (<= means "same") with the highest accuracy on a dev set of
    pairs: distances (n,), same (n,) bool. Returns (threshold, accuracy)."""
    xp = backends.backend_of(distances).xp
    order = xp.argsort(distances)
    d, s = distances[order], same[order].astype(xp.int64)
    # threshold at d[k]: pairs 0..k predicted same
    correct = xp.cumsum(s) + (xp.sum(1 - s) - xp.cumsum(1 - s))
    k = int(xp.argmax(correct))
    return float(d[k]), float(correct[k]) / d.shape[0]


def recognise(queries, gallery, gallery_labels, threshold: float):
    """Label of the nearest gallery embedding per query, -1 where its squared distance
    exceeds ``threshold``: queries (q, d), gallery (g, d) -> (q,) int64."""
    xp = backends.backend_of(queries).xp
    sq = pairwise_squared_distances(queries, gallery)
    nearest = xp.argmin(sq, axis=1)
    best = sq[xp.arange(queries.shape[0]), nearest]
    return xp.where(best <= threshold, gallery_labels[nearest], -1).astype(xp.int64)


def refine_gallery(queries, gallery, iterations: int = 10):
    """Gallery seeded k-means on the queries: ``iterations`` times, c_k = (g_k + sum of the
    queries nearest to c_k) / (1 + their count). queries (q, d), gallery (k, d) -> (k, d)."""
    queries = queries.data if isinstance(queries, Tensor) else queries
    gallery = gallery.data if isinstance(gallery, Tensor) else gallery
    if queries.ndim != 2 or gallery.ndim != 2 or queries.shape[1] != gallery.shape[1]:
        raise ShapeError(f"refine_gallery: queries (q, d) and gallery (k, d) must share d, got "
                         f"{tuple(queries.shape)} and {tuple(gallery.shape)}")
    if int(iterations) != iterations or iterations < 0:
        raise ConfigError(f"refine_gallery: iterations must be an integer >= 0, got {iterations}")
    xp = backends.backend_of(queries).xp
    k = gallery.shape[0]
    centroids = gallery
    for _ in range(int(iterations)):
        nearest = xp.argmin(pairwise_squared_distances(queries, centroids), axis=1)
        member = (nearest[:, None] == xp.arange(k)[None, :]).astype(queries.dtype)  # (q, k)
        centroids = (gallery + member.T @ queries) / (1 + member.sum(axis=0))[:, None]
    return centroids
