"""NCCL allreduce of CuPy arrays (``cupy.cuda.nccl``), for data-parallel training on GPUs.

MPI (or world size 1) only bootstraps: rank 0 draws the NCCL unique id and broadcasts it;
every later sum runs GPU to GPU on the current CUDA stream, never through the host. Each
rank uses GPU ``local_rank % device_count`` (``MPI_LOCALRANKID``/``OMPI_COMM_WORLD_LOCAL_RANK``,
else the world rank). Only usable with CuPy and a GPU; written against CuPy 13's API.
"""

from __future__ import annotations

import os
import warnings

from dlx.errors import DtypeError

_LOCAL_RANK_VARIABLES = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID")


def available() -> bool:
    """True when CuPy imports with NCCL support and sees a GPU."""
    try:
        import cupy

        with warnings.catch_warnings():  # CuPy warns when libnccl is missing: we answer that
            warnings.simplefilter("ignore")
            from cupy.cuda import nccl
        return bool(cupy.is_available()) and nccl.available
    except Exception:  # no cupy, no NCCL build, no driver: all mean "not here"
        return False


def local_rank(default: int) -> int:
    for name in _LOCAL_RANK_VARIABLES:
        value = os.environ.get(name)
        if value and value.isdigit():
            return int(value)
    return default


class NcclComm:
    """Sums and broadcasts CuPy arrays with NCCL; ``bootstrap`` (an MPIComm or LocalComm)
    hands out the unique id and carries :meth:`allgather` of small Python objects."""

    name = "nccl"

    def __init__(self, bootstrap):
        import cupy
        from cupy.cuda import nccl

        self._cupy, self._nccl, self.bootstrap = cupy, nccl, bootstrap
        self.rank, self.size = bootstrap.rank, bootstrap.size
        cupy.cuda.Device(local_rank(self.rank) % cupy.cuda.runtime.getDeviceCount()).use()
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = bootstrap.allgather(uid)[0]
        self._comm = nccl.NcclCommunicator(self.size, uid, self.rank)
        self._types = {cupy.dtype(cupy.float32): nccl.NCCL_FLOAT32,
                       cupy.dtype(cupy.float64): nccl.NCCL_FLOAT64,
                       cupy.dtype(cupy.float16): nccl.NCCL_FLOAT16,
                       cupy.dtype(cupy.int64): nccl.NCCL_INT64}

    def _checked(self, a):
        if not isinstance(a, self._cupy.ndarray) or not a.flags.c_contiguous:
            raise DtypeError(f"NcclComm: needs a C-contiguous CuPy array, got "
                             f"{type(a).__name__}")
        if a.dtype not in self._types:
            raise DtypeError(f"NcclComm: dtype {a.dtype} is not one of "
                             f"{', '.join(str(t) for t in self._types)}")
        return self._types[a.dtype]

    def allreduce_(self, a):
        dtype = self._checked(a)
        stream = self._cupy.cuda.get_current_stream().ptr
        self._comm.allReduce(a.data.ptr, a.data.ptr, a.size, dtype, self._nccl.NCCL_SUM, stream)
        return a

    def broadcast_(self, a, root: int = 0):
        dtype = self._checked(a)
        stream = self._cupy.cuda.get_current_stream().ptr
        self._comm.broadcast(a.data.ptr, a.data.ptr, a.size, dtype, root, stream)
        return a

    def allgather(self, obj) -> list:
        return self.bootstrap.allgather(obj)
