"""word2vec: skip-gram with negative sampling (Mikolov et al., 2013), trained on the device.

For a (centre c, context o) pair from a window and k negatives n_1..n_k drawn from the
unigram distribution raised to 3/4, P(w) = count(w)^(3/4) / sum_v count(v)^(3/4):

    loss = -log sigmoid(u_o . v_c) - sum_i log sigmoid(-u_{n_i} . v_c)

with v = input ("embedding") vectors E and u = output vectors. Binary sigmoid losses replace
the full softmax over the vocabulary. The course suggests k = 5-20 for small data, 2-5 for
large. Optional subsampling keeps word w with probability
min(1, (sqrt(f_w / t) + 1) t / f_w) (f_w its frequency, t = 1e-3: word2vec's C code and
gensim). SGD on mini-batches of pairs, the learning rate falling linearly from ``lr`` to
``lr * 1e-4``; the gradients of a batch are added to the rows they touch with the backend's
``scatter_add`` (a row-sparse update). The word vectors are E.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlx import backends
from dlx.errors import ConfigError
from dlx.text.vectors import WordVectors
from dlx.text.windows import EncodedCorpus, window_pairs


@dataclass
class Word2VecConfig:
    dim: int = 100
    window: int = 5
    negatives: int = 5
    epochs: int = 5
    lr: float = 0.025
    batch_size: int = 1024
    subsample: float | None = 1e-3
    seed: int = 0


def negative_sampling_distribution(counts, power: float = 0.75):
    """P(w) proportional to count(w)^power (the unigram distribution to the 3/4)."""
    backend = backends.current()
    p = backend.asarray(counts, dtype=backend.xp.float64) ** power
    return p / p.sum()


def keep_probability(counts, t: float):
    """Subsampling: P(keep w) = min(1, (sqrt(f_w / t) + 1) * t / f_w), f_w = count / total."""
    backend = backends.current()
    xp = backend.xp
    c = backend.asarray(counts, dtype=xp.float64)
    f = c / c.sum()
    safe = xp.where(f > 0, f, 1.0)
    return xp.where(f > 0, xp.minimum(1.0, (xp.sqrt(safe / t) + 1) * t / safe), 0.0)


def sgns_step(E, U, centres, contexts, negatives, lr: float):
    """One SGD step of the negative-sampling loss on a batch; returns the summed loss
    (a 0-d device array, so no host synchronisation per step).

    E, U: (V, d) input/output vectors; centres, contexts: (B,); negatives: (B, k)."""
    backend = backends.backend_of(E)
    xp = backend.xp
    v = E[centres]                                       # (B, d)
    u_pos, u_neg = U[contexts], U[negatives]             # (B, d), (B, k, d)
    s_pos = (v * u_pos).sum(axis=1)                      # (B,)
    s_neg = xp.einsum("bkd,bd->bk", u_neg, v)            # (B, k)
    sig_pos, sig_neg = 1 / (1 + xp.exp(-s_pos)), 1 / (1 + xp.exp(-s_neg))
    loss = -(xp.log(sig_pos + 1e-12).sum() + xp.log(1 - sig_neg + 1e-12).sum())
    g_pos = sig_pos - 1                                  # d loss / d s_pos
    dv = g_pos[:, None] * u_pos + xp.einsum("bk,bkd->bd", sig_neg, u_neg)
    backend.scatter_add(E, centres, -lr * dv)
    backend.scatter_add(U, contexts, -lr * g_pos[:, None] * v)
    backend.scatter_add(U, negatives.reshape(-1),
                        (-lr * sig_neg[:, :, None] * v[:, None, :]).reshape(-1, v.shape[1]))
    return loss


def train_word2vec(sentences, vocab, config: Word2VecConfig | None = None,
                   log=None) -> WordVectors:
    """Skip-gram with negative sampling on token-list ``sentences`` over ``vocab``'s words
    (special tokens have count 0 and are never drawn). ``log(epoch, mean_loss)`` is called
    after every epoch."""
    config = config or Word2VecConfig()
    if config.negatives < 1 or config.window < 1 or config.dim < 1:
        raise ConfigError(f"train_word2vec: dim, window and negatives must be >= 1, got "
                          f"{config.dim}, {config.window}, {config.negatives}")
    backend = backends.current()
    xp = backend.xp
    rng = xp.random.default_rng(config.seed)
    corpus = EncodedCorpus(sentences, vocab)
    V, d = len(vocab), config.dim
    dtype = backend.default_dtype
    E = ((rng.random((V, d), dtype=xp.float64) - 0.5) / d).astype(dtype)  # as word2vec.c
    U = xp.zeros((V, d), dtype=dtype)
    noise = xp.cumsum(negative_sampling_distribution(vocab.counts))
    keep = keep_probability(vocab.counts, config.subsample) if config.subsample else None
    step, total_steps = 0, None
    for epoch in range(config.epochs):
        ids, sentence = corpus.ids, corpus.sentence
        if keep is not None:
            mask = rng.random(ids.shape[0]) < keep[ids]
            ids, sentence = ids[mask], sentence[mask]
        centres, contexts, _ = window_pairs(ids, sentence, config.window, rng)
        order = xp.argsort(rng.random(centres.shape[0]))  # a shuffle
        centres, contexts = centres[order], contexts[order]
        if total_steps is None:
            total_steps = config.epochs * (-(-centres.shape[0] // config.batch_size))
        loss = 0.0
        for start in range(0, centres.shape[0], config.batch_size):
            stop = start + config.batch_size
            c, o = centres[start:stop], contexts[start:stop]
            negs = xp.searchsorted(noise, rng.random((c.shape[0], config.negatives)))
            negs = xp.minimum(negs, V - 1)
            lr = config.lr * max(1e-4, 1 - step / total_steps)
            loss = loss + sgns_step(E, U, c, o, negs, lr)
            step += 1
        if log is not None:
            log(epoch, float(loss) / centres.shape[0])
    return WordVectors(vocab.words, E)
