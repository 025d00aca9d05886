"""Embedding layer: a trainable (V, d) matrix E whose rows are word vectors e_w = E[w]."""

from __future__ import annotations

from dlx import backends
from dlx.core import Parameter
from dlx.errors import ConfigError, ShapeError
from dlx.functional.embedding import embedding
from dlx.nn.module import Module


class Embedding(Module):
    """``Embedding(V, d)``: indices (...) -> vectors (..., d) by row lookup (no one-hot product).

    The course writes e_w = E o_w with a one-hot o_w; dlx stores E transposed, as (V, d), and
    indexes it. ``padding_idx``: that row starts at zero and never receives a gradient.
    ``freeze()`` / ``frozen=True`` stop training the matrix (it keeps no gradient).
    ``sparse=True``: the gradient holds only the looked-up rows
    (:class:`dlx.sparse_grad.RowSparseGrad`) and the optimisers update only those rows --
    identical to the dense step for plain gradient descent, a *lazy* step for Momentum,
    RMSprop and Adam (see ``docs/text.md``).
    """

    accepts_integer_input = True  # token indices, never cast to float

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 frozen: bool = False, std: float = 1.0, sparse: bool = False):
        super().__init__()
        if int(num_embeddings) <= 0 or int(embedding_dim) <= 0:
            raise ConfigError(f"Embedding: num_embeddings and embedding_dim must be positive, "
                              f"got {num_embeddings}, {embedding_dim}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None and not 0 <= padding_idx < self.num_embeddings:
            raise ConfigError(f"Embedding: padding_idx must lie in [0, {self.num_embeddings}), "
                              f"got {padding_idx}")
        self.padding_idx, self.sparse = padding_idx, bool(sparse)
        backend = backends.current()
        weight = backend.rng.standard_normal((self.num_embeddings, self.embedding_dim),
                                             dtype=backend.xp.float64) * std
        weight = weight.astype(backend.default_dtype)
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.weight = Parameter(weight, name="weight")
        if frozen:
            self.freeze()

    @classmethod
    def from_pretrained(cls, vectors, frozen: bool = True, padding_idx: int | None = None,
                        sparse: bool = False) -> "Embedding":
        """An Embedding holding ``vectors`` (V, d) (host or device array, e.g. from
        :func:`dlx.text.load_vectors`), frozen unless ``frozen=False``."""
        backend = backends.current()
        matrix = backend.asarray(vectors)
        if matrix.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: vectors must be (V, d), got shape "
                             f"{matrix.shape}")
        layer = cls(matrix.shape[0], matrix.shape[1], padding_idx=padding_idx, sparse=sparse)
        layer.weight.data = matrix.astype(backend.default_dtype, copy=True)
        layer.weight.grad = None
        if frozen:
            layer.freeze()
        return layer

    @property
    def frozen(self) -> bool:
        return not self.weight.requires_grad

    def freeze(self) -> "Embedding":
        self.weight.requires_grad = False
        self.weight.grad = None
        return self

    def unfreeze(self) -> "Embedding":
        self.weight.requires_grad = True
        return self

    def forward(self, indices):
        return embedding(indices, self.weight, self.padding_idx, self.sparse)

    def __repr__(self):
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return (f"Embedding({self.num_embeddings}, {self.embedding_dim}{extra}"
                f"{', sparse' if self.sparse else ''}{', frozen' if self.frozen else ''})")
