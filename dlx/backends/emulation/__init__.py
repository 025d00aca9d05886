"""CPU emulation of the CUDA kernels in ``kernels/*.cu``.

The unchanged ``.cu`` files are compiled by the host C++ compiler through ``cuda_shim.h``
(the CUDA device vocabulary) and ``emu_runtime.hpp`` (grid/block scheduling, fibers for
``__syncthreads``), loaded with ctypes and launched with NumPy arrays through the same
launch code as the CuPy backend (:mod:`dlx.backends.kernel_backend`).

Modules: :mod:`.signature` (kernel parameter lists), :mod:`.build` (compile and cache),
:mod:`.module` (load, check arguments, launch).
"""

from dlx.backends.emulation.build import Build, BuildError, build, find_compiler
from dlx.backends.emulation.module import (SCHEDULES, EmulatedFunction, EmulatedModule,
                                           KernelArgumentError, KernelLaunchError)

__all__ = ["Build", "BuildError", "build", "find_compiler", "SCHEDULES", "EmulatedFunction",
           "EmulatedModule", "KernelArgumentError", "KernelLaunchError"]
