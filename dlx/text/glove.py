"""GloVe (Pennington et al., 2014): weighted least squares on log co-occurrence counts.

X_ij = sum over co-occurrences of words i and j at most ``window`` apart of 1/distance
(the paper's decreasing weighting), symmetric. The objective over the non-zero X_ij:

    J = sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,
    f(x) = min(1, (x / x_max)^alpha),  x_max = 100, alpha = 3/4

trained with AdaGrad on shuffled mini-batches of (i, j) cells (the paper's optimiser), the
per-row gradients of a batch summed with the backend's ``scatter_add``: G += g^2,
theta -= lr g / sqrt(G), G starting at 1 as in the reference code.

The rate: the paper's 0.05 is the reference C code's eta, which that code also multiplies
into the accumulated squares (G += (eta g)^2, per cell), so its steps tend to
g / sqrt(sum g^2) -- an effective AdaGrad rate near 1, not 0.05. Plain AdaGrad at 0.05
barely moves the vectors (gensim's Wikipedia text, 3 epochs: WordSim-353 rho -0.04); dlx's
default is 1.0 (25 epochs: rho 0.29; see docs/text.md for the measurements).
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
    epochs: int = 50  # the paper's count for d < 300
    lr: float = 1.0  # see the module docstring
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


def glove_loss_and_grads(Wb, Wcb, i, j, logx, fx):
    """J on a batch and its gradients with respect to [w_i, b_i] and [w~_j, b~_j] (one row
    per cell); the tables hold the bias as their last column."""
    xp = backends.backend_of(Wb).xp
    wi, wj = Wb[i], Wcb[j]
    d = wi.shape[1] - 1
    diff = (wi[:, :d] * wj[:, :d]).sum(axis=1) + wi[:, d] + wj[:, d] - logx
    fdiff = 2 * fx * diff
    loss = (fx * diff * diff).sum()
    ones = xp.ones((i.shape[0], 1), dtype=Wb.dtype)
    gi = xp.concatenate([fdiff[:, None] * wj[:, :d], fdiff[:, None] * ones], axis=1)
    gj = xp.concatenate([fdiff[:, None] * wi[:, :d], fdiff[:, None] * ones], axis=1)
    return loss, gi, gj


class AdaGradRows:
    """AdaGrad on the rows of a table: the gradients of a batch are summed per distinct row
    (the backend's ``scatter_add``), then G += g^2 and theta -= lr g / sqrt(G) on those rows."""

    def __init__(self, table, lr: float):
        xp = backends.backend_of(table).xp
        self.table, self.lr = table, lr
        self.squares = xp.ones_like(table)  # GloVe's reference code starts G at 1

    def update(self, rows, grad) -> None:
        backend = backends.backend_of(self.table)
        xp = backend.xp
        unique, inverse = xp.unique(rows, return_inverse=True)
        g = xp.zeros((unique.shape[0], grad.shape[1]), dtype=grad.dtype)
        backend.scatter_add(g, inverse.reshape(-1), grad)
        self.squares[unique] += g * g
        self.table[unique] -= self.lr * g / xp.sqrt(self.squares[unique])


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
    # [w | b] and [w~ | b~]: vectors and biases of a word are updated together
    Wb = ((rng.random((V, d + 1), dtype=xp.float64) - 0.5) / d).astype(dtype)
    Wcb = ((rng.random((V, d + 1), dtype=xp.float64) - 0.5) / d).astype(dtype)
    optimisers = AdaGradRows(Wb, config.lr), AdaGradRows(Wcb, config.lr)
    n = rows.shape[0]
    for epoch in range(config.epochs):
        order = xp.argsort(rng.random(n))
        total = 0.0
        for start in range(0, n, config.batch_size):
            k = order[start:start + config.batch_size]
            i, j = rows[k], cols[k]
            loss, gi, gj = glove_loss_and_grads(Wb, Wcb, i, j, logx[k], fx[k])
            optimisers[0].update(i, gi)
            optimisers[1].update(j, gj)
            total = total + loss
        if log is not None:
            log(epoch, float(total) / n)
    return WordVectors(vocab.words, Wb[:, :d] + Wcb[:, :d])
