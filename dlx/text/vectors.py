"""Word-vector tools: cosine similarity, Euclidean distance, nearest neighbours, analogies.

``cosine_similarity(u, v) = u.v / (||u|| ||v||)``. An analogy a : b :: c : ? is answered
with the word w (not a, b or c) maximising cos(e_w, e_b - e_a + e_c) over unit vectors
(the "3CosAdd" rule of Mikolov et al., 2013, the one the course and gensim use).
Vectors live on the active backend; words are host strings.
"""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError, ShapeError


def _norm(xp, a):
    return xp.sqrt((a * a).sum(axis=-1, keepdims=True))


def cosine_similarity(u, v) -> float:
    """cos(u, v) for two vectors of one length (0 when either is all zeros)."""
    xp = backends.backend_of(u).xp
    if u.shape != v.shape:
        raise ShapeError(f"cosine_similarity: shapes {u.shape} and {v.shape} differ")
    den = float(xp.linalg.norm(u)) * float(xp.linalg.norm(v))
    return 0.0 if den == 0 else float((u * v).sum()) / den


def euclidean_distance(u, v) -> float:
    """||u - v||_2."""
    if u.shape != v.shape:
        raise ShapeError(f"euclidean_distance: shapes {u.shape} and {v.shape} differ")
    return float(backends.backend_of(u).xp.linalg.norm(u - v))


class WordVectors:
    """``words`` (list of V strings) with ``vectors`` (V, d) on the active backend."""

    def __init__(self, words, vectors):
        backend = backends.current()
        self.vectors = backend.asarray(vectors)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(words):
            raise ShapeError(f"WordVectors: vectors must be ({len(words)}, d) for "
                             f"{len(words)} words, got shape {self.vectors.shape}")
        self.words = list(words)
        self.ids = {w: i for i, w in enumerate(self.words)}
        if len(self.ids) != len(self.words):
            raise ConfigError("WordVectors: words must be unique")
        xp = backend.xp
        norms = _norm(xp, self.vectors)
        self.unit = self.vectors / xp.where(norms == 0, 1, norms)

    def __contains__(self, word) -> bool:
        return word in self.ids

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, word):
        if word not in self.ids:
            raise ConfigError(f"WordVectors: {word!r} is not in the vocabulary")
        return self.vectors[self.ids[word]]

    def similarity(self, a: str, b: str) -> float:
        return cosine_similarity(self[a], self[b])

    def nearest(self, query, k: int = 10, exclude=()) -> list[tuple[str, float]]:
        """The ``k`` words of highest cosine similarity to ``query`` (a word or a vector),
        leaving out ``exclude`` (and the query word itself)."""
        xp = backends.current().xp
        vec = self[query] if isinstance(query, str) else backends.current().asarray(query)
        scores = self.unit @ (vec / max(float(xp.linalg.norm(vec)), 1e-30))
        banned = set(exclude) | ({query} if isinstance(query, str) else set())
        for w in banned:
            if w in self.ids:
                scores[self.ids[w]] = -xp.inf
        order = backends.current().to_host(xp.argsort(-scores)[:k])
        host = backends.current().to_host(scores)
        return [(self.words[i], float(host[i])) for i in order]

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        """a : b :: c : ?  -- the ``k`` best w != a, b, c by cos(e_w, e_b - e_a + e_c)."""
        missing = [w for w in (a, b, c) if w not in self.ids]
        if missing:
            raise ConfigError(f"WordVectors.analogy: {missing} not in the vocabulary")
        u = self.unit
        target = u[self.ids[b]] - u[self.ids[a]] + u[self.ids[c]]
        return self.nearest(target, k, exclude=(a, b, c))

    def analogy_accuracy(self, questions, restrict: int | None = None,
                         batch: int = 512) -> dict:
        """Accuracy on analogy ``questions`` (tuples a, b, c, d): the fraction answered d.

        Only questions whose four words are all among the first ``restrict`` words (all
        words by default) are asked; returns {"accuracy", "correct", "asked", "skipped"}.
        """
        backend = backends.current()
        xp = backend.xp
        allowed = self.ids if restrict is None else {w: i for w, i in self.ids.items()
                                                      if i < restrict}
        asked = [q for q in questions if all(w in allowed for w in q)]
        correct = 0
        for start in range(0, len(asked), batch):
            part = asked[start:start + batch]
            ids = backend.asarray([[self.ids[w] for w in q] for q in part])
            u = self.unit
            target = u[ids[:, 1]] - u[ids[:, 0]] + u[ids[:, 2]]
            scores = target @ (u[:restrict] if restrict else u).T
            rows = xp.arange(len(part))
            for j in range(3):
                scores[rows, ids[:, j]] = -xp.inf
            correct += int((xp.argmax(scores, axis=1) == ids[:, 3]).sum())
        return {"accuracy": correct / len(asked) if asked else 0.0, "correct": correct,
                "asked": len(asked), "skipped": len(questions) - len(asked)}
