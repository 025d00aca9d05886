"""Sharded evaluation: every rank evaluates a contiguous block, the sums are reduced."""

from __future__ import annotations

from dlx.distributed.comm import world
from dlx.distributed.data_parallel import reduce_sums, shard_bounds
from dlx.errors import ConfigError


def evaluate(model, data, batch_size: int = 256, loss="auto", comm=None) -> dict:
    """``dlx.train.evaluate`` over all ranks: rank r takes rows [m r / N, m (r+1) / N) of X, y
    (and of the mask of ``(X, y, mask)`` data)."""
    from dlx.train.loop import _checked_batches, _evaluate_batches, as_data

    comm = comm or world()
    X, y, mask = as_data(data, "distributed evaluate")
    if len(y) < comm.size:
        raise ConfigError(f"distributed evaluate: {len(y)} examples cannot be shared by "
                          f"{comm.size} ranks")
    lo, hi = shard_bounds(len(y), comm.rank, comm.size)
    shard = (X[lo:hi], y[lo:hi]) + (() if mask is None else (mask[lo:hi],))
    task, batches = _checked_batches("evaluate", model, shard, loss, batch_size, False)
    acc = _evaluate_batches(model, batches, task)
    return acc.means(reduce_sums(comm, acc.sums()))
