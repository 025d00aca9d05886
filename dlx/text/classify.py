"""Many-to-one sentence classifiers, the course's Emojify models (week 2).

Both read padded word ids (m, T) (``pad`` = 0 marks the end of a sentence) through a
pretrained, frozen :class:`dlx.nn.Embedding`:

* :class:`AveragedEmbeddingClassifier` (Emojify V1): avg = (1/T_i) sum_t e<t> over the
  sentence's real words, then z = W avg + b (softmax in the loss).
* :class:`LSTMClassifier` (Emojify V2): an LSTM over e<1..T_i>, its last state a<T_i>
  (dropout in training), then z = W a + b.
"""

from __future__ import annotations

from dlx import functional as F
from dlx.core import Tensor
from dlx.nn.embedding import Embedding
from dlx.nn.layers import Dense
from dlx.nn.module import Module
from dlx.nn.recurrent import LSTM


def _ids_and_lengths(x, pad: int):
    ids = x.data if isinstance(x, Tensor) else x
    return ids, (ids != pad).sum(axis=1)


class AveragedEmbeddingClassifier(Module):
    accepts_integer_input = True  # token indices, never cast to float

    def __init__(self, vectors, n_classes: int, pad: int = 0, frozen: bool = True):
        super().__init__()
        self.pad = pad
        self.embedding = Embedding.from_pretrained(vectors, frozen=frozen, padding_idx=pad)
        self.output = Dense(self.embedding.embedding_dim, n_classes)

    def forward(self, x):
        ids, lengths = _ids_and_lengths(x, self.pad)
        e = self.embedding(ids)                                   # pad rows are zero
        denominator = Tensor(lengths.clip(1, None).astype(e.dtype)[:, None])
        return self.output(e.sum(axis=1) / denominator)


class LSTMClassifier(Module):
    accepts_integer_input = True  # token indices, never cast to float

    def __init__(self, vectors, n_classes: int, n_a: int = 32, keep_prob: float = 0.5,
                 pad: int = 0, frozen: bool = True):
        super().__init__()
        self.pad, self.keep_prob = pad, keep_prob
        self.embedding = Embedding.from_pretrained(vectors, frozen=frozen, padding_idx=pad)
        self.lstm = LSTM(self.embedding.embedding_dim, n_a, return_sequences=False)
        self.output = Dense(n_a, n_classes)

    def forward(self, x):
        ids, lengths = _ids_and_lengths(x, self.pad)
        a = self.lstm(self.embedding(ids), lengths.clip(1, None)).outputs  # (m, n_a)
        return self.output(F.dropout(a, self.keep_prob, training=self.training))
