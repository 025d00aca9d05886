"""Row-sparse gradients: the gradient of a (V, d) table as the rows a batch touched.

``RowSparseGrad(rows, values, shape)``: the dense gradient G (V, d) is zero except
``G[rows[k]] = values[k]``; ``rows`` (k,) are distinct and sorted, ``values`` (k, d).
``Embedding(..., sparse=True)`` produces one instead of a dense (V, d) array, so an
optimiser step costs O(k d) instead of O(V d) (see :mod:`dlx.optim.optimizer`,
``update_rows``).

Autodiff accumulates gradients with ``+``: sparse + sparse stays sparse (rows merged,
values summed), sparse + dense is dense. Anything that needs a dense array (e.g. a
NumPy assignment) gets a clear error instead; call :meth:`to_dense`.
"""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError


class RowSparseGrad:
    __array_ufunc__ = None  # ndarray + RowSparseGrad defers to our __radd__
    __array_priority__ = 1000  # the same for CuPy arrays

    def __init__(self, rows, values, shape):
        self.rows, self.values, self.shape = rows, values, tuple(shape)

    @classmethod
    def from_lookups(cls, indices, grads, shape, skip_row: int | None = None):
        """Sum ``grads`` (n, d) into the distinct rows of ``indices`` (n,); ``skip_row``
        (a padding index) is left out."""
        backend = backends.backend_of(grads)
        xp = backend.xp
        rows, inverse = xp.unique(indices, return_inverse=True)
        values = xp.zeros((rows.shape[0], shape[1]), dtype=grads.dtype)
        backend.scatter_add(values, inverse.reshape(-1), grads)
        if skip_row is not None:
            keep = rows != skip_row
            rows, values = rows[keep], values[keep]
        return cls(rows, values, shape)

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def with_values(self, values) -> "RowSparseGrad":
        """The same rows holding ``values`` (e.g. clipped or scaled ones)."""
        return RowSparseGrad(self.rows, values, self.shape)

    def to_dense(self):
        xp = backends.backend_of(self.values).xp
        dense = xp.zeros(self.shape, dtype=self.values.dtype)
        dense[self.rows] = self.values
        return dense

    def __add__(self, other):
        if isinstance(other, RowSparseGrad):
            xp = backends.backend_of(self.values).xp
            return RowSparseGrad.from_lookups(xp.concatenate([self.rows, other.rows]),
                                              xp.concatenate([self.values, other.values]),
                                              self.shape)
        dense = other.copy()
        dense[self.rows] += self.values
        return dense

    __radd__ = __add__

    def __array__(self, *args, **kwargs):
        raise ConfigError(f"RowSparseGrad: a row-sparse gradient of shape {self.shape} "
                          "(from Embedding(sparse=True)) was used as a dense array; call "
                          ".to_dense() or build the Embedding with sparse=False")

    def __repr__(self):
        return f"RowSparseGrad({self.rows.shape[0]} of {self.shape[0]} rows, shape {self.shape})"
