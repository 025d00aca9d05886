"""A character-level language model (the course's dinosaur-names exercise, on person names).

Each name is read one character at a time and the model predicts the next one; the
vocabulary is the names' characters plus ``"\\n"``, which both starts every input (the
course's x<1>) and ends every target (the end-of-name token)::

    inputs   \\n  j  a  n  e          x<t> one-hot (m, T, V)
    targets   j  a  n  e  \\n         y<t> = x<t+1>; padding past the name is ignored

The model is a recurrent layer (RNN, GRU or LSTM) returning sequences and a Dense layer
applied to every step (logits (m, T, V)). Training minimises the mean cross-entropy per
character with Adam and global-norm clipping (as the course's exercise clips). Held-out
perplexity = exp(mean cross-entropy per character, end tokens included), compared with a
unigram character model's. Sampling draws each next character from softmax(logits / T)
with the backend's seeded generator until the end token.
"""

from __future__ import annotations

import math
from collections import Counter

from dlx import backends
from dlx import functional as F
from dlx.core import Tensor, no_grad
from dlx.errors import ConfigError
from dlx.models.sequence import recurrent_layer
from dlx.nn import Dense, LSTMState, Module
from dlx.optim import Adam, with_clipping

EOS = "\n"
IGNORE = -100


class CharVocab:
    """Characters <-> indices; index 0 is the end-of-name token ``"\\n"``."""

    def __init__(self, chars):
        self.chars = [EOS] + sorted(set(chars) - {EOS})
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_names(cls, names) -> CharVocab:
        return cls("".join(names))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, name: str) -> list[int]:
        unknown = sorted(set(name) - set(self.index))
        if unknown:
            raise ConfigError(f"CharVocab: characters {unknown} of {name!r} are not in the "
                              "vocabulary")
        return [self.index[c] for c in name]

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> list[str]:
        return list(self.chars)


def encode_batch(vocab: CharVocab, names, dtype=None):
    """(x one-hot (m, T, V), targets (m*T,) int64 with -100 past each name, lengths (m,)) on
    the active backend; T = longest name + 1."""
    backend = backends.current()
    xp = backend.xp
    ids = [vocab.encode(n) for n in names]
    T = max(len(i) for i in ids) + 1
    inputs = [[0] + i + [0] * (T - 1 - len(i)) for i in ids]
    targets = [i + [0] + [IGNORE] * (T - 1 - len(i)) for i in ids]
    eye = xp.eye(len(vocab), dtype=dtype or backend.default_dtype)
    x = eye[backend.asarray(inputs, dtype=xp.int64)]
    return (x, backend.asarray(targets, dtype=xp.int64).reshape(-1),
            backend.asarray([len(i) + 1 for i in ids], dtype=xp.int64))


class CharLM(Module):
    """Recurrent layer + per-step Dense: one-hot x (m, T, V) -> logits (m, T, V)."""

    def __init__(self, vocab_size: int, n_a: int = 64, cell: str = "lstm", num_layers: int = 1,
                 dtype=None):
        super().__init__()
        self.config = {"name": "charlm", "vocab_size": int(vocab_size), "n_a": int(n_a),
                       "cell": cell, "num_layers": int(num_layers)}
        self.rnn = recurrent_layer(cell, vocab_size, n_a, num_layers=num_layers, dtype=dtype)
        self.head = Dense(n_a, vocab_size)
        if dtype is not None:
            for p in self.head.parameters():
                p.data = p.data.astype(dtype)

    def forward(self, x, lengths=None):
        out = self.rnn(x, lengths=lengths).outputs
        m, T, n = out.shape
        return self.head(out.reshape(m * T, n)).reshape(m, T, -1)

    def loss(self, x, targets, lengths):
        """Mean cross-entropy per character (padding ignored)."""
        logits = self(x, lengths)
        return F.softmax_cross_entropy(logits.reshape(-1, logits.shape[-1]), targets,
                                       ignore_index=IGNORE)

    def step(self, x_t, states):
        """One character for every sample: x_t (m, V), states per layer -> (logits, states)."""
        new = []
        h = x_t
        for cell, state in zip(self.rnn.cells, states):
            state = cell(h, state)
            new.append(state)
            h = state.a if isinstance(state, LSTMState) else state
        return self.head(h), new


def _batches(names, batch_size: int, order=None):
    order = range(len(names)) if order is None else order
    order = list(order)
    for start in range(0, len(order), batch_size):
        yield [names[i] for i in order[start:start + batch_size]]


def train_charlm(model: CharLM, vocab: CharVocab, names, *, epochs: int = 10,
                 batch_size: int = 32, lr: float = 0.01, clip_norm: float = 5.0,
                 on_epoch=None) -> list[float]:
    """Adam with global-norm clipping over shuffled mini-batches of names (the backend's
    generator shuffles); returns the mean training cross-entropy of each epoch."""
    backend = backends.current()
    opt = with_clipping(Adam(model.parameters(), lr=lr), max_norm=clip_norm)
    dtype = model.head.W.dtype
    history = []
    for epoch in range(int(epochs)):
        model.train()
        order = backend.to_host(backend.xp.argsort(backend.rng.random(len(names)))).tolist()
        total, count = 0.0, 0
        for batch in _batches(names, batch_size, order):
            x, t, lengths = encode_batch(vocab, batch, dtype)
            loss = model.loss(Tensor(x), t, lengths)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.data * len(batch), count + len(batch)
        history.append(float(backend.to_host(total)) / count)
        if on_epoch is not None:
            on_epoch(epoch + 1, history[-1])
    return history


def perplexity(model: CharLM, vocab: CharVocab, names, batch_size: int = 256) -> float:
    """exp(mean cross-entropy per character over ``names``, end tokens included)."""
    backend = backends.current()
    total, chars = 0.0, 0
    model.eval()
    with no_grad():
        for batch in _batches(names, batch_size):
            x, t, lengths = encode_batch(vocab, batch, model.head.W.dtype)
            n = sum(len(b) + 1 for b in batch)
            total += float(backend.to_host(model.loss(Tensor(x), t, lengths).data)) * n
            chars += n
    model.train()
    return math.exp(total / chars)


def unigram_perplexity(vocab: CharVocab, train_names, eval_names) -> float:
    """Perplexity of the character frequencies of ``train_names`` (add-one smoothed)."""
    counts = Counter("".join(n + EOS for n in train_names))
    total = sum(counts.values()) + len(vocab)
    log_p = [math.log((counts[c] + 1) / total) for n in eval_names for c in n + EOS]
    return math.exp(-sum(log_p) / len(log_p))


def sample(model: CharLM, vocab: CharVocab, n: int = 10, temperature: float = 1.0,
           max_length: int = 30) -> list[str]:
    """``n`` names drawn character by character from softmax(logits / temperature) with the
    backend's seeded generator; each stops at the end token (never drawn first: a name has
    at least one character) or after ``max_length``."""
    if not temperature > 0:
        raise ConfigError(f"sample: temperature must be > 0, got {temperature}")
    backend = backends.current()
    xp = backend.xp
    dtype = model.head.W.dtype
    eye = xp.eye(len(vocab), dtype=dtype)
    current = xp.zeros(n, dtype=xp.int64)
    states = [None] * len(model.rnn.cells)
    drawn = []
    model.eval()
    with no_grad():
        for step in range(max_length):
            logits, states = model.step(Tensor(eye[current]), states)
            z = logits.data / temperature
            if step == 0:  # a name has at least one character: no end token first
                z[:, 0] = -xp.inf
            p = xp.exp(z - z.max(axis=1, keepdims=True))
            cdf = xp.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
            u = backend.rng.random((n, 1), dtype=cdf.dtype)
            current = xp.minimum((cdf < u).sum(axis=1), len(vocab) - 1).astype(xp.int64)
            drawn.append(current)
    model.train()
    rows = backend.to_host(xp.stack(drawn, axis=1)).tolist()
    return [vocab.decode(r[:r.index(0)] if 0 in r else r) for r in rows]
