"""A vocabulary: words <-> integer ids, with counts and special tokens.

Ids 0.. are the special tokens in the order given (by default ``<pad>``, ``<unk>``,
``<s>``, ``</s>``), then the words by decreasing count (ties alphabetical), so a
vocabulary built twice from the same text is the same.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from dlx.errors import ConfigError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def simple_tokenize(text: str) -> list[str]:
    """Lower-case, then runs of letters/digits (with an apostrophe suffix such as ``don't``)."""
    return _WORD.findall(text.lower())


class Vocabulary:
    """``Vocabulary.build(sentences, min_count=1, max_size=None)``; then ``encode``/``decode``.

    ``counts[i]`` is the corpus count of word ``i`` (0 for special tokens); unknown words
    map to ``<unk>`` (an error when the vocabulary has no ``<unk>``).
    """

    def __init__(self, words: list[str], counts: list[int] | None = None):
        if len(set(words)) != len(words):
            raise ConfigError("Vocabulary: words must be unique")
        self.words = list(words)
        self.counts = list(counts) if counts is not None else [0] * len(words)
        if len(self.counts) != len(self.words):
            raise ConfigError(f"Vocabulary: {len(self.words)} words but {len(self.counts)} counts")
        self.ids = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, sentences: Iterable[Iterable[str]], min_count: int = 1,
              max_size: int | None = None,
              specials: tuple[str, ...] = (PAD, UNK, BOS, EOS)) -> "Vocabulary":
        counter = Counter()
        for sentence in sentences:
            counter.update(sentence)
        for s in specials:
            counter.pop(s, None)
        ranked = sorted((w for w, c in counter.items() if c >= min_count),
                        key=lambda w: (-counter[w], w))
        if max_size is not None:
            ranked = ranked[:max(0, max_size - len(specials))]
        return cls(list(specials) + ranked, [0] * len(specials) + [counter[w] for w in ranked])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.ids

    def index(self, word: str) -> int:
        """The id of ``word`` (``<unk>``'s for an unknown word)."""
        i = self.ids.get(word)
        if i is not None:
            return i
        if UNK not in self.ids:
            raise ConfigError(f"Vocabulary: unknown word {word!r} and no {UNK} token")
        return self.ids[UNK]

    def encode(self, tokens: Iterable[str], bos: bool = False, eos: bool = False) -> list[int]:
        ids = [self.index(t) for t in tokens]
        return ([self.ids[BOS]] if bos else []) + ids + ([self.ids[EOS]] if eos else [])

    def decode(self, ids: Iterable[int], stop_at_eos: bool = True) -> list[str]:
        """Words for ``ids``; stops at ``</s>`` and drops ``<pad>``/``<s>``."""
        out = []
        for i in ids:
            w = self.words[int(i)]
            if w == EOS and stop_at_eos:
                break
            if w not in (PAD, BOS):
                out.append(w)
        return out
