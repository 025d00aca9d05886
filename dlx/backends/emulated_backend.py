"""The CUDA kernels of ``kernels/*.cu`` run on the CPU, with NumPy arrays.

``EmulatedBackend`` is a :class:`~dlx.backends.kernel_backend.KernelBackend` (same launch
code as the CuPy backend: grid/block, contiguity, dtype dispatch, explicit scalar dtypes)
whose modules are the host-compiled emulation of the unchanged ``.cu`` files
(:mod:`dlx.backends.emulation`), and a :class:`~dlx.backends.numpy_backend.NumpyBackend`
for everything else (xp = numpy, rng, host transfers).

Options: ``schedule`` -- the order emulated threads run in (``forward``, ``reverse``,
``random``; a correct kernel gives the same result under all three), ``sanitize`` -- load
the AddressSanitizer/UBSan build (the process must have the ASan runtime preloaded),
``kernel_dir`` -- compile kernels from another directory (e.g. a modified copy).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dlx.backends import kernel_sources
from dlx.backends.emulation import (BuildError, EmulatedModule, build, find_compiler)
from dlx.backends.kernel_backend import KernelBackend
from dlx.backends.numpy_backend import NumpyBackend
from dlx.errors import BackendUnavailableError


class EmulatedBackend(KernelBackend, NumpyBackend):
    """Kernel primitives emulated on the host; arrays are ``numpy.ndarray``."""

    name = "emulated"

    def __init__(self, seed: int = 0, *, schedule: str = "forward", sanitize: bool = False,
                 kernel_dir: str | Path | None = None, block_size: int | None = None,
                 max_blocks: int | None = None):
        compiler = find_compiler()
        if compiler is None:
            raise BackendUnavailableError(
                "the CUDA emulation needs a C++17 compiler and none was found (set $CXX or "
                "install g++ / clang++)")
        directory = Path(kernel_dir) if kernel_dir is not None else kernel_sources.kernel_dir()
        files = [directory / f"{module}.cu" for module in kernel_sources.KERNELS]
        try:
            with ThreadPoolExecutor(max_workers=len(files)) as pool:
                builds = list(pool.map(lambda f: build(f, compiler, sanitize=sanitize), files))
        except (BuildError, OSError) as exc:
            raise BackendUnavailableError(f"building the CUDA emulation failed: {exc}") from exc
        self.compiler = compiler
        self.sanitize = sanitize
        self._modules = {module: EmulatedModule(b, schedule=schedule, seed=seed)
                         for module, b in zip(kernel_sources.KERNELS, builds)}
        super().__init__(seed, block_size=block_size, max_blocks=max_blocks)

    @property
    def schedule(self) -> str:
        return next(iter(self._modules.values())).schedule

    def _function(self, module: str, name: str):
        return self._modules[module].get_function(name)

    def describe(self) -> dict:
        info = super().describe()
        info.update(backend=self.name, compiler=self.compiler, schedule=self.schedule,
                    sanitize=self.sanitize,
                    libraries={m: str(mod.build.library) for m, mod in self._modules.items()})
        return info
