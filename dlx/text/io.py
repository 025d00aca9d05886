"""Reading and writing word vectors: GloVe's text format and pickle-free ``.npz``.

Text format (GloVe, also word2vec's text format): one word per line followed by its d
numbers separated by spaces; an optional first line ``V d`` (word2vec's header) is skipped.
``.npz``: arrays ``words`` (V,) of unicode strings and ``vectors`` (V, d), read with
``allow_pickle=False``.
"""

from __future__ import annotations

import os

import numpy as np  # word-vector file I/O (allowed outside dlx/backends)

from dlx.errors import ConfigError, ShapeError


def load_vectors(path, max_words: int | None = None) -> tuple[list[str], np.ndarray]:
    """(words, vectors (V, d) float32 host array) from a GloVe-text or ``.npz`` file."""
    path = os.fspath(path)
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as data:
            if "words" not in data or "vectors" not in data:
                raise ConfigError(f"load_vectors: {path} needs arrays 'words' and 'vectors', "
                                  f"has {sorted(data.files)}")
            words, vectors = [str(w) for w in data["words"]], data["vectors"]
        if max_words is not None:
            words, vectors = words[:max_words], vectors[:max_words]
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise ShapeError(f"load_vectors: {path} holds {len(words)} words and vectors of "
                             f"shape {vectors.shape}")
        return words, vectors.astype(np.float32)
    words, rows, dim = [], [], None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.rstrip().split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header "V d"
            if len(parts) < 2:
                continue
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise ShapeError(f"load_vectors: {path} line {number} has {len(parts) - 1} "
                                 f"numbers, earlier lines {dim}")
            words.append(parts[0])
            rows.append(parts[1:])
            if max_words is not None and len(words) >= max_words:
                break
    if not words:
        raise ConfigError(f"load_vectors: no vectors in {path}")
    return words, np.asarray(rows, dtype=np.float32)


def save_vectors(path, words, vectors) -> None:
    """Write ``words`` and ``vectors`` (host or device array) to ``path`` (``.npz``)."""
    from dlx import backends

    host = backends.backend_of(vectors).to_host(vectors)
    np.savez(path, words=np.asarray(list(words), dtype=str), vectors=host)
