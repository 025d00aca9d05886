"""Embedding lookup as a differentiable Function.

``embedding(indices, weight)``: weight E (V, d), indices (...) integers in [0, V) ->
(..., d) with ``out[..., :] = E[indices[...], :]``. Backward accumulates the upstream
gradient into the looked-up rows with the backend's ``scatter_add`` (repeated indices
summed), which equals the dense one-hot formula dE = onehot(indices)^T @ dY without ever
building the one-hot matrix. Rows equal to ``padding_idx`` get no gradient. With
``sparse=True`` the gradient is a :class:`dlx.sparse_grad.RowSparseGrad` holding only the
distinct looked-up rows (the optimisers then update only those rows).
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ConfigError, DtypeError, ShapeError
from dlx.sparse_grad import RowSparseGrad


class EmbeddingLookup(Function):
    def __init__(self, indices, padding_idx, sparse: bool = False):
        self.indices, self.padding_idx, self.sparse = indices, padding_idx, sparse

    def forward(self, weight):
        self.weight_shape, self.dtype = weight.shape, weight.dtype
        return weight[self.indices]

    def backward(self, gy):
        d = self.weight_shape[1]
        if self.sparse:
            return RowSparseGrad.from_lookups(self.indices.reshape(-1), gy.reshape(-1, d),
                                              self.weight_shape, skip_row=self.padding_idx)
        gw = self.xp.zeros(self.weight_shape, dtype=self.dtype)
        self.backend.scatter_add(gw, self.indices.reshape(-1), gy.reshape(-1, d))
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw


def check_indices(where: str, indices, num_embeddings: int):
    """``indices`` as a device integer array, with a clear error for floats or out-of-range."""
    backend = backends.current()
    data = indices.data if isinstance(indices, Tensor) else backend.asarray(indices)
    if data.dtype.kind not in "iu":
        raise DtypeError(f"{where}: indices must be integers, got dtype {data.dtype}")
    if data.size:
        lo, hi = int(data.min()), int(data.max())
        if lo < 0 or hi >= num_embeddings:
            raise ConfigError(f"{where}: indices must lie in [0, {num_embeddings}), got values "
                              f"from {lo} to {hi}")
    return data


def embedding(indices, weight, padding_idx: int | None = None, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (V, d) picked by integer ``indices`` (...) -> (..., d); with
    ``sparse`` the weight's gradient is row-sparse."""
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be (V, d), got shape {weight.shape}")
    data = check_indices("embedding", indices, weight.shape[0])
    return EmbeddingLookup(data, padding_idx, bool(sparse))(weight)
