"""Load an emulation library and launch its kernels like ``cupy.RawModule`` does.

``EmulatedModule(build).get_function(name)`` returns an :class:`EmulatedFunction`;
calling it as ``f(grid, block, args)`` (the ``cupy.RawKernel`` calling convention) checks
every argument against the kernel's parameter list, packs a ``void** args`` array (as
``cudaLaunchKernel`` takes it) and runs the grid on the CPU.

Checks (each one a bug a GPU would show as garbage or a crash, not as an error):

* array parameter: a ``numpy.ndarray`` of exactly the pointee dtype, C-contiguous, and
  writeable unless the parameter is a pointer to const;
* scalar parameter: a NumPy scalar of exactly the parameter's dtype. A plain Python ``int``
  or ``float`` is refused: CuPy would pass it as a 64-bit integer or a double whatever the
  parameter is (cupy/cupy#8485).
"""

from __future__ import annotations

import ctypes
import itertools
import threading

import numpy as np

from dlx.backends.emulation.build import Build
from dlx.backends.emulation.signature import Param
from dlx.errors import DlxError, DtypeError

#: thread orders inside a block (and block orders inside a grid)
SCHEDULES = {"forward": 0, "reverse": 1, "random": 2}


class KernelArgumentError(DtypeError):
    """A kernel argument that the GPU would misread (wrong width, dtype or layout)."""


class KernelLaunchError(DlxError, RuntimeError):
    """The emulator refused or aborted a launch (bad grid, barrier divergence, ...)."""


class EmulatedModule:
    """The kernels of one compiled ``.cu`` file."""

    def __init__(self, build: Build, schedule: str = "forward", seed: int = 0):
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        self.build = build
        self.schedule = schedule
        self._library = ctypes.CDLL(str(build.library))
        self._library.dlx_emu_last_error.restype = ctypes.c_char_p
        self._lock = threading.Lock()  # the library's thread coordinates are global
        self._seeds = itertools.count(seed)

    def get_function(self, name: str) -> EmulatedFunction:
        if name not in self.build.signatures:
            raise KernelLaunchError(f"{self.build.library.name} has no kernel {name!r}; it has "
                                    f"{', '.join(self.build.signatures)}")
        return EmulatedFunction(self, name, self.build.signatures[name])


class EmulatedFunction:
    """One kernel entry point; call it as ``f(grid, block, args)``."""

    def __init__(self, module: EmulatedModule, name: str, params: tuple[Param, ...]):
        self.module, self.name, self.params = module, name, params
        self._stub = getattr(module._library, f"dlx_launch_{name}")
        self._stub.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
        self._stub.restype = ctypes.c_int

    def __call__(self, grid, block, args, shared_mem: int = 0) -> None:
        if shared_mem:
            raise KernelLaunchError(f"{self.name}: dynamic shared memory is not emulated")
        holders = self.pack(args)  # keeps every packed value alive during the call
        addresses = np.array([h.ctypes.data for h in holders], dtype=np.uintp)
        module = self.module
        with module._lock:
            cfg = np.array([*_dims(grid, "grid"), *_dims(block, "block"),
                            SCHEDULES[module.schedule], next(module._seeds)], dtype=np.int64)
            status = self._stub(cfg.ctypes.data, addresses.ctypes.data)
            message = module._library.dlx_emu_last_error().decode()
        if status != 0:
            raise KernelLaunchError(f"{self.name}: {message}")

    def pack(self, args) -> list[np.ndarray]:
        """Check ``args`` against the parameter list; one host buffer per argument."""
        args = tuple(args)
        if len(args) != len(self.params):
            raise KernelArgumentError(
                f"{self.name} takes {len(self.params)} arguments "
                f"({', '.join(p.describe() for p in self.params)}), got {len(args)}")
        return [self._pack_one(p, a) for p, a in zip(self.params, args)]

    def _pack_one(self, param: Param, value) -> np.ndarray:
        where = f"{self.name}: argument {param.describe()}"
        if param.pointer:
            if not isinstance(value, np.ndarray):
                raise KernelArgumentError(
                    f"{where} needs a numpy.ndarray, got {type(value).__name__}")
            if value.dtype != np.dtype(param.dtype):
                raise KernelArgumentError(f"{where} got an array of dtype {value.dtype}")
            if not value.flags.c_contiguous:
                raise KernelArgumentError(f"{where} got a non-C-contiguous array "
                                          f"(strides {value.strides}); make it contiguous first")
            if not param.const and not value.flags.writeable:
                raise KernelArgumentError(f"{where} is written by the kernel but the array is "
                                          "read-only")
            return np.array(value.ctypes.data, dtype=np.uintp)
        if not isinstance(value, np.generic):
            raise KernelArgumentError(
                f"{where} got a Python {type(value).__name__}; pass np.{param.dtype}(...) -- "
                "CuPy sends Python ints as 64-bit and floats as double whatever the parameter "
                "is (cupy/cupy#8485)")
        if value.dtype != np.dtype(param.dtype):
            raise KernelArgumentError(f"{where} got a {value.dtype} scalar; the GPU would read "
                                      f"its bytes as {param.dtype}")
        return np.array(value)


def _dims(dims, what: str) -> tuple[int, int, int]:
    dims = (dims,) if np.isscalar(dims) else tuple(dims)
    if not 1 <= len(dims) <= 3:
        raise KernelLaunchError(f"{what} must have 1 to 3 dimensions, got {dims!r}")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))
