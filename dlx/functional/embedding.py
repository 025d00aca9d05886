"""Embedding lookup as a differentiable Function.

``embedding(indices, weight)``: weight E (V, d), indices (...) integers in [0, V) ->
(..., d) with ``out[..., :] = E[indices[...], :]``. Backward accumulates the upstream
gradient into the looked-up rows with the backend's ``scatter_add`` (repeated indices
summed), which equals the dense one-hot formula dE = onehot(indices)^T @ dY without ever
building the one-hot matrix. Rows equal to ``padding_idx`` get no gradient.
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ConfigError, DtypeError, ShapeError


class EmbeddingLookup(Function):
    def __init__(self, indices, padding_idx):
        self.indices, self.padding_idx = indices, padding_idx

    def forward(self, weight):
        self.weight_shape, self.dtype = weight.shape, weight.dtype
        return weight[self.indices]

    def backward(self, gy):
        d = self.weight_shape[1]
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


def embedding(indices, weight, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (V, d) picked by integer ``indices`` (...) -> (..., d)."""
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be (V, d), got shape {weight.shape}")
    data = check_indices("embedding", indices, weight.shape[0])
    return EmbeddingLookup(data, padding_idx)(weight)
