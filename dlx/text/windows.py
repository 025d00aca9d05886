"""A corpus as one id array on the device, and the (centre, context) pairs of a window."""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError


class EncodedCorpus:
    """Sentences encoded with a vocabulary, flattened: ``ids`` (N,) and ``sentence`` (N,)
    (the sentence number of each token) on the active backend. Unknown words are dropped."""

    def __init__(self, sentences, vocab):
        ids, owner = [], []
        for number, sentence in enumerate(sentences):
            encoded = [vocab.ids[w] for w in sentence if w in vocab.ids]
            ids += encoded
            owner += [number] * len(encoded)
        if not ids:
            raise ConfigError("EncodedCorpus: no token of the corpus is in the vocabulary")
        backend = backends.current()
        self.ids = backend.asarray(ids, dtype=backend.xp.int64)
        self.sentence = backend.asarray(owner, dtype=backend.xp.int64)

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def window_pairs(ids, sentence, window: int, rng=None):
    """(centre, context, distance) arrays for every pair at most ``window`` tokens apart
    inside one sentence, both directions. With ``rng``, each centre's window is shrunk to
    a uniform b in [1, window] (word2vec's dynamic window, which weights near words more)."""
    xp = backends.backend_of(ids).xp
    n = ids.shape[0]
    reach = rng.integers(1, window + 1, size=n) if rng is not None else None
    centres, contexts, distances = [], [], []
    for offset in range(1, window + 1):
        left, right = xp.arange(n - offset), xp.arange(offset, n)
        same = sentence[left] == sentence[right]
        for c, o in ((left, right), (right, left)):
            keep = same if reach is None else same & (reach[c] >= offset)
            centres.append(ids[c[keep]])
            contexts.append(ids[o[keep]])
            distances.append(xp.full(int(keep.sum()), offset, dtype=xp.int64))
    return xp.concatenate(centres), xp.concatenate(contexts), xp.concatenate(distances)
