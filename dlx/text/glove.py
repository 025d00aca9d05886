"""GloVe (Pennington et al., 2014): weighted least squares on log co-occurrence counts.

X_ij = sum over co-occurrences of words i and j at most ``window`` apart of 1/distance
(the paper's decreasing weighting), symmetric. The objective over the non-zero X_ij:

    J = sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,
    f(x) = min(1, (x / x_max)^alpha),  x_max = 100, alpha = 3/4

trained with AdaGrad on shuffled mini-batches of (i, j) cells (the paper's optimiser, initial
rate 0.05), the per-row gradients of a batch summed with the backend's ``scatter_add``.
The word vector is w + w~ (the paper's choice; the course: e_w = (theta_w + e_w) / 2 up to
a factor).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlx import backends
from dlx.text.vectors import WordVectors
from dlx.text.windows import EncodedCorpus, window_pairs


@dataclass
class GloVeConfig:
    dim: int = 100
    window: int = 10
    x_max: float = 100.0
    alpha: float = 0.75
    epochs: int = 25
    lr: float = 0.05
    batch_size: int = 4096
    seed: int = 0


def cooccurrence(ids, sentence, vocab_size: int, window: int):
    """Sparse X as (rows i, columns j, values X_ij) over its non-zero cells."""
    xp = backends.backend_of(ids).xp
    centres, contexts, distance = window_pairs(ids, sentence, window)
    keys = centres * vocab_size + contexts
    cells, inverse = xp.unique(keys, return_inverse=True)
    values = xp.bincount(inverse.reshape(-1), weights=1.0 / distance, minlength=cells.shape[0])
    return cells // vocab_size, cells % vocab_size, values


def weighting(x, x_max: float = 100.0, alpha: float = 0.75):
    """f(x) = min(1, (x / x_max)^alpha)."""
    xp = backends.backend_of(x).xp
    return xp.minimum(1.0, (x / x_max) ** alpha)


def glove_loss_and_grads(W, Wc, b, bc, i, j, logx, fx):
    """J on a batch and its gradients with respect to w_i, w~_j, b_i, b~_j (one per cell)."""
    diff = (W[i] * Wc[j]).sum(axis=1) + b[i] + bc[j] - logx
    fdiff = fx * diff
    loss = (fx * diff * diff).sum()
    return loss, 2 * fdiff[:, None] * Wc[j], 2 * fdiff[:, None] * W[i], 2 * fdiff


class AdaGradRows:
    """AdaGrad on table rows: G += g^2, theta -= lr g / sqrt(G), per row touched."""

    def __init__(self, table, lr: float):
        xp = backends.backend_of(table).xp
        self.table, self.lr = table, lr
        self.squares = xp.ones_like(table)  # GloVe's reference code starts G at 1

    def update(self, rows, grad) -> None:
        backend = backends.backend_of(self.table)
        backend.scatter_add(self.squares, rows, grad * grad)
        backend.scatter_add(self.table, rows,
                            -self.lr * grad / backend.xp.sqrt(self.squares[rows]))


def train_glove(sentences, vocab, config: GloVeConfig | None = None, log=None) -> WordVectors:
    """GloVe vectors (w + w~) for ``vocab``'s words; ``log(epoch, mean J per cell)``."""
    config = config or GloVeConfig()
    backend = backends.current()
    xp = backend.xp
    rng = xp.random.default_rng(config.seed)
    corpus = EncodedCorpus(sentences, vocab)
    V, d, dtype = len(vocab), config.dim, backend.default_dtype
    rows, cols, x = cooccurrence(corpus.ids, corpus.sentence, V, config.window)
    logx, fx = xp.log(x).astype(dtype), weighting(x, config.x_max, config.alpha).astype(dtype)

    def init(shape):
        return ((rng.random(shape, dtype=xp.float64) - 0.5) / d).astype(dtype)

    W, Wc, b, bc = init((V, d)), init((V, d)), init((V,)), init((V,))
    optimisers = [AdaGradRows(t, config.lr) for t in (W, Wc, b, bc)]
    n = rows.shape[0]
    for epoch in range(config.epochs):
        order = xp.argsort(rng.random(n))
        total = 0.0
        for start in range(0, n, config.batch_size):
            k = order[start:start + config.batch_size]
            i, j = rows[k], cols[k]
            loss, gw, gwc, gb = glove_loss_and_grads(W, Wc, b, bc, i, j, logx[k], fx[k])
            for opt, index, grad in zip(optimisers, (i, j, i, j), (gw, gwc, gb, gb)):
                opt.update(index, grad)
            total = total + loss
        if log is not None:
            log(epoch, float(total) / n)
    return WordVectors(vocab.words, W + Wc)
