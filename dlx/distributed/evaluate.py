"""Sharded evaluation: every rank evaluates a contiguous block, the means are reduced."""

from __future__ import annotations

from dlx.distributed.comm import world
from dlx.distributed.data_parallel import reduce_means, shard_bounds
from dlx.errors import ConfigError


def evaluate(model, data, batch_size: int = 256, loss="auto", comm=None) -> dict:
    """``dlx.train.evaluate`` over all ranks: rank r takes rows [m r / N, m (r+1) / N)."""
    from dlx.train.loop import as_xy
    from dlx.train.loop import evaluate as evaluate_local

    comm = comm or world()
    X, y = as_xy(data)
    if len(y) < comm.size:
        raise ConfigError(f"distributed evaluate: {len(y)} examples cannot be shared by "
                          f"{comm.size} ranks")
    lo, hi = shard_bounds(len(y), comm.rank, comm.size)
    result = evaluate_local(model, (X[lo:hi], y[lo:hi]), batch_size=batch_size, loss=loss)
    return reduce_means(comm, result, hi - lo)
