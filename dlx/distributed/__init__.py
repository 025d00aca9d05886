"""Data-parallel training over existing transports: MPI (mpi4py) on CPUs, NCCL (CuPy) on GPUs.

    mpiexec -n 4 dlx train --distributed ...        # or fit(..., distributed=True)

See :mod:`dlx.distributed.data_parallel` for the step, ``docs/scaling.md`` for the cost model.
"""

from dlx.distributed.comm import (DistributedError, LocalComm, MPIComm, choose_transport,
                                  launched_size, world)
from dlx.distributed.data_parallel import DataParallel, shard_bounds
from dlx.distributed.evaluate import evaluate

__all__ = ["DataParallel", "DistributedError", "LocalComm", "MPIComm", "choose_transport",
           "evaluate", "launched_size", "shard_bounds", "world"]
