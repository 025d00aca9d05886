"""Mini-batches: shuffle every epoch, fixed batch size, smaller last batch.

    for X_batch, y_batch in MiniBatches(X, y, batch_size=64):
        ...

batch_size=None (or m) gives batch gradient descent, batch_size=1 stochastic gradient descent.

Device transfer: the whole data set is sent to the backend's device once, when the iterator
is built; each epoch draws a permutation from the backend's seeded generator, gathers the
arrays in that order on the device (one gather per array per epoch) and yields contiguous
slices (views, no copies). This beats sending every batch from the host: on a GPU one
host->device copy per batch is a synchronising transfer of a few kilobytes each, far slower
than a device-side gather, and per-batch fancy indexing costs one kernel launch per batch
instead of one per epoch. The price is device memory for the data set (twice, during the
epoch's gather), which suits the data sets this library bundles; for larger ones pass a
data set slice by slice.
"""

from __future__ import annotations

import math

from dlx import backends
from dlx.errors import ConfigError, ShapeError


class MiniBatches:
    """Iterate over aligned arrays (first axis = examples) in mini-batches.

    ``arrays``: host or device arrays with equal first dimension m (e.g. X, y). Floating
    arrays are cast to ``dtype`` (the backend's default when None); integer labels keep
    their dtype. Each iteration (epoch) reshuffles when ``shuffle``; ``drop_last`` leaves
    out a final batch smaller than ``batch_size``. Yields tuples of device arrays (or a
    single array when given one).
    """

    def __init__(self, *arrays, batch_size: int | None = 64, shuffle: bool = True,
                 drop_last: bool = False, dtype=None):
        if not arrays:
            raise ConfigError("MiniBatches: give at least one array")
        backend = backends.current()
        dtype = dtype or backend.default_dtype
        self.backend = backend
        self.arrays = []
        for a in arrays:
            a = backend.asarray(a)
            self.arrays.append(a.astype(dtype, copy=False) if a.dtype.kind == "f" else a)
        self.m = self.arrays[0].shape[0]
        for a in self.arrays:
            if a.ndim == 0 or a.shape[0] != self.m:
                raise ShapeError(f"MiniBatches: every array needs {self.m} examples on axis 0,"
                                 f" got shapes {[tuple(x.shape) for x in self.arrays]}")
        if self.m == 0:
            raise ShapeError("MiniBatches: the data set is empty")
        batch_size = self.m if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ConfigError(f"MiniBatches: batch_size must be >= 1 or None, got {batch_size}")
        self.batch_size = min(batch_size, self.m)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)

    def __len__(self) -> int:
        whole = self.m // self.batch_size
        return whole if self.drop_last else math.ceil(self.m / self.batch_size)

    def __iter__(self):
        arrays = self.arrays
        if self.shuffle and self.batch_size < self.m:
            # argsort of uniform keys: cupy's Generator has no permutation()
            order = self.backend.xp.argsort(self.backend.rng.random(self.m))
            arrays = [a[order] for a in arrays]
        for k in range(len(self)):
            start = k * self.batch_size
            batch = tuple(a[start:start + self.batch_size] for a in arrays)
            yield batch if len(batch) > 1 else batch[0]
