"""Synchronous data parallelism: every rank holds the whole model and a shard of each batch.

One step on N ranks, for a global mini-batch of B examples split into contiguous shards of
b_r examples (rank r gets rows [B r / N, B (r+1) / N)):

    g_r  = gradient of J_r = mean_{i in shard r} L_i + (L2 penalty with m = B)
    g    = sum_r (b_r / B) g_r            # one allreduce of the flat gradient vector
         = gradient of (1/B) sum_{i in batch} L_i + penalty      (the single-process gradient)

and every rank applies the same update to the same parameters, so they stay identical
(checked once per epoch: a :class:`DistributedError` names the ranks that drifted). All
ranks shuffle with the same seeded generator, so they see the same global batches a
single process would. The flat vector is the optimiser's own :class:`FlatGroup` (an
in-place optimiser's, else one built here). Cost and accuracy sums, and dev evaluation
(each rank takes a contiguous block of the dev set), are reduced once per epoch.

Batch norm: batch statistics are per rank (each normalises its own shard, so with batch
norm the result differs from one process with the same global batch); the running mean
and variance are averaged over the ranks at the end of every epoch, so evaluation and the
checkpoint see one set. Rank 0 alone prints, logs and writes checkpoints.
"""

from __future__ import annotations

import hashlib

from dlx import backends
from dlx.distributed.comm import DistributedError, world
from dlx.errors import ConfigError
from dlx.optim.inplace import FlatGroup


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """Rows [lo, hi) of an n-row batch that ``rank`` of ``size`` takes."""
    return n * rank // size, n * (rank + 1) // size


def host_comm(comm):
    """The communicator for small host values (NCCL's MPI bootstrap when on NCCL)."""
    return getattr(comm, "bootstrap", comm)


def reduce_sums(comm, values: list) -> list:
    """The elementwise sum over all ranks of a list of host floats (one allreduce)."""
    sums = backends.get("numpy").asarray(values, dtype="float64")
    host_comm(comm).allreduce_(sums)
    return [float(v) for v in sums]


class _Shards:
    """Iterates over a MiniBatches, yielding this rank's shard of every global batch."""

    def __init__(self, batches, parallel):
        self.batches, self.parallel, self.m = batches, parallel, batches.m
        size, batch = parallel.size, batches.batch_size
        last = batches.m % batch
        if batch < size or (0 < last < size and not batches.drop_last):
            raise ConfigError(f"data-parallel fit over {size} ranks: every mini-batch needs at "
                              f"least {size} examples, but batch_size={batch} on m={batches.m} "
                              f"gives batches of {batch} and {last or batch}; choose another "
                              "batch size")

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        dp = self.parallel
        for batch in self.batches:
            n = batch[0].shape[0]
            lo, hi = shard_bounds(n, dp.rank, dp.size)
            dp.batch_m, dp.weight = n, (hi - lo) / n
            yield tuple(a[lo:hi] for a in batch)


class DataParallel:
    """The data-parallel side of one ``fit``: created after the model, optimiser (and a
    resumed state) exist; broadcasts rank 0's parameters and buffers so all ranks start
    equal, and tells the trainer whether this rank writes files."""

    def __init__(self, model, optimizer, trainer=None, comm=None):
        self.comm = comm or world()
        self.rank, self.size = self.comm.rank, self.comm.size
        self.model = model
        self.flat = getattr(optimizer, "flat", None) or FlatGroup.build(optimizer.params)
        if self.flat is None:
            raise ConfigError("data-parallel fit: all parameters must share one dtype and array "
                              "type (one flat gradient vector is reduced per step)")
        self._grad_views = [self.flat.view(self.flat.grad, i)
                            for i in range(len(self.flat.params))]
        self.batch_m, self.weight = None, 1.0
        if trainer is not None:
            trainer.writer = self.is_writer
        for p in self.flat.params:
            self.comm.broadcast_(p.data)
        for _, buf in self._float_buffers():
            self.comm.broadcast_(buf)
        self.check_parameters()

    @property
    def is_writer(self) -> bool:
        return self.rank == 0

    # -- per step ---------------------------------------------------------------------------
    def shard(self, batches) -> _Shards:
        return _Shards(batches, self)

    def allreduce_gradients(self) -> None:
        """g := sum_r (b_r / B) g_r in the flat vector; parameters' grads become its views."""
        for p, slot in zip(self.flat.params, self._grad_views):
            if p.grad is None:
                slot.fill(0)
            else:
                slot[...] = p.grad
        if self.weight != 1.0:
            self.flat.grad *= self.weight
        self.comm.allreduce_(self.flat.grad)
        for p, slot in zip(self.flat.params, self._grad_views):
            p.grad = slot

    # -- per epoch --------------------------------------------------------------------------
    def shard_eval(self, batches):
        """This rank's contiguous block of an evaluation MiniBatches (None stays None)."""
        if batches is None:
            return None
        if batches.m < self.size:
            raise ConfigError(f"data-parallel evaluation: {batches.m} examples cannot be "
                              f"shared by {self.size} ranks")
        lo, hi = shard_bounds(batches.m, self.rank, self.size)
        return type(batches)(*[a[lo:hi] for a in batches.arrays],
                             batch_size=batches.batch_size, shuffle=False,
                             dtype=batches.arrays[0].dtype)

    def read(self, accumulator) -> dict:
        """An epoch accumulator's means over all ranks' examples (its sums are reduced, so
        per-task accuracies divide by every rank's labelled entries)."""
        return accumulator.means(reduce_sums(self.comm, accumulator.sums()))

    def end_epoch(self) -> None:
        """Average the running (batch-norm) statistics, then check parameters agree."""
        for _, buf in self._float_buffers():
            self.comm.allreduce_(buf)
            buf /= self.size
        self.check_parameters()

    def check_parameters(self) -> None:
        """Raise DistributedError unless every rank holds bit-identical parameters."""
        digest = hashlib.sha256()
        for p in self.flat.params:
            digest.update(backends.backend_of(p.data).to_host(p.data).tobytes())
        digests = host_comm(self.comm).allgather(digest.hexdigest())
        drifted = [r for r, d in enumerate(digests) if d != digests[0]]
        if drifted:
            raise DistributedError(f"data-parallel fit: the parameters of rank(s) {drifted} "
                                   f"differ from rank 0's; the ranks must run the same code, "
                                   "data, seed and backend")

    # -- helpers ----------------------------------------------------------------------------
    def _float_buffers(self):
        return [(n, b) for n, b in self.model.named_buffers()
                if b is not None and getattr(b, "dtype", None) is not None
                and b.dtype.kind == "f"]
