"""Communicators: the one interface data-parallel training needs, over existing transports.

    comm.rank, comm.size
    comm.allreduce_(a)          # a := sum over ranks of a, in place (host or device array)
    comm.broadcast_(a, root=0)  # a := rank root's a, in place
    comm.allgather(obj)         # [obj of rank 0, ..., obj of rank N-1] (small Python objects)

``LocalComm`` is world size 1 (every call a no-op), ``MPIComm`` wraps mpi4py's
``COMM_WORLD`` (host buffers; device arrays travel through the host), and
``dlx.backends.nccl.NcclComm`` sums CuPy arrays on the GPUs with NCCL, using MPI only to hand
out the NCCL id. :func:`world` picks one (see :func:`choose_transport`).
"""

from __future__ import annotations

import os

from dlx import backends
from dlx.errors import ConfigError, DlxError

#: environment variables an MPI launcher sets to the world size (MPICH/Hydra, Open MPI, Slurm)
WORLD_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")
TRANSPORTS = ("auto", "mpi", "nccl", "local")


class DistributedError(DlxError, RuntimeError):
    """Ranks of a data-parallel run disagree (drifted parameters) or cannot communicate."""


def launched_size() -> int:
    """World size announced by an MPI launcher's environment (1 when not under mpiexec)."""
    for name in WORLD_SIZE_VARIABLES:
        value = os.environ.get(name)
        if value and value.isdigit():
            return int(value)
    return 1


class LocalComm:
    """World size 1: a run that is 'distributed' over one process."""

    rank, size, name = 0, 1, "local"

    def allreduce_(self, a):
        return a

    def broadcast_(self, a, root: int = 0):
        return a

    def allgather(self, obj) -> list:
        return [obj]


class MPIComm:
    """mpi4py's COMM_WORLD; arrays are reduced in place on the host."""

    name = "mpi"

    def __init__(self):
        from mpi4py import MPI

        self._mpi, self._comm = MPI, MPI.COMM_WORLD
        self.rank, self.size = self._comm.Get_rank(), self._comm.Get_size()

    def _host(self, a):
        backend = backends.backend_of(a)
        if backend.xp.__name__ == "numpy" and a.flags.c_contiguous:
            return a, None
        return backend.to_host(a).copy(order="C"), backend

    def allreduce_(self, a):
        buf, device = self._host(a)
        self._comm.Allreduce(self._mpi.IN_PLACE, buf, op=self._mpi.SUM)
        if device is not None:
            a[...] = device.asarray(buf)
        return a

    def broadcast_(self, a, root: int = 0):
        buf, device = self._host(a)
        self._comm.Bcast(buf, root=root)
        if device is not None:
            a[...] = device.asarray(buf)
        return a

    def allgather(self, obj) -> list:
        return self._comm.allgather(obj)


def choose_transport(requested: str, backend_name: str, nccl_ready: bool) -> str:
    """Which transport carries the gradients: ``nccl`` for CuPy arrays when NCCL works,
    else ``mpi``; ``requested`` (auto/mpi/nccl/local, or ``DLX_TRANSPORT``) overrides."""
    requested = (requested or "auto").lower()
    if requested not in TRANSPORTS:
        raise ConfigError(f"distributed transport must be one of {', '.join(TRANSPORTS)}, "
                          f"got {requested!r}")
    if requested == "nccl" and backend_name != "cupy":
        raise ConfigError(f"distributed transport nccl needs the cupy backend, the active "
                          f"backend is {backend_name}")
    if requested == "nccl" and not nccl_ready:
        raise ConfigError("distributed transport nccl: cupy.cuda.nccl is not available "
                          "(CuPy built without NCCL, or no GPU)")
    if requested != "auto":
        return requested
    return "nccl" if backend_name == "cupy" and nccl_ready else "mpi"


def _mpi_or_local():
    try:
        return MPIComm()
    except ImportError:
        if launched_size() > 1:
            raise ConfigError("data-parallel training under mpiexec needs mpi4py: "
                              "pip install 'dlx[mpi]'") from None
        return LocalComm()


def world(transport: str | None = None):
    """The communicator of this process's run (one per process, created on first use)."""
    global _world
    if _world is None:
        from dlx.backends import nccl

        backend = backends.current()
        requested = transport or os.environ.get("DLX_TRANSPORT", "auto")
        chosen = choose_transport(requested, backend.name,
                                  backend.name == "cupy" and nccl.available())
        if chosen == "local":
            _world = LocalComm()
        elif chosen == "mpi":
            _world = _mpi_or_local()
        else:
            _world = nccl.NcclComm(_mpi_or_local())
    return _world


_world = None
