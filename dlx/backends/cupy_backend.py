"""The CuPy (NVIDIA GPU) backend: xp = cupy, primitives = the kernels of ``kernels/*.cu``.

Each kernel file becomes one ``cupy.RawModule`` (source from
:func:`dlx.backends.kernel_sources.source`, compiled by NVRTC with :data:`NVRTC_OPTIONS`),
created once per process and device and cached; CuPy compiles it on first use and keeps the
binary in its own kernel cache. The ``RawKernel`` of each entry point is cached per (device,
module, name) too: ``RawModule.get_function`` builds a new wrapper object on every call.
Launch configurations come from the device's properties (SM count, threads per block and
per SM), read once per device. The launch code is
:class:`~dlx.backends.kernel_backend.KernelBackend`'s.

This module imports without CuPy; constructing the backend raises
:class:`~dlx.errors.BackendUnavailableError` with the reason when CuPy or a GPU is missing.
"""

from __future__ import annotations

import base64
import threading

import numpy as np

from dlx.backends import cupy_status, kernel_sources
from dlx.backends.inputs import check_numeric, host_array
from dlx.backends.kernel_backend import KernelBackend
from dlx.backends.launch_config import DeviceLimits
from dlx.errors import BackendUnavailableError, ConfigError

#: options dlx adds to CuPy's own NVRTC options (``--std=c++17``, include paths,
#: ``-ftz=true``, ``-arch=sm_XX``, ``--device-as-default-execution-space``)
NVRTC_OPTIONS: tuple[str, ...] = ()

_modules: dict[tuple[int, str], object] = {}
_functions: dict[tuple[int, str, str], object] = {}
_limits: dict[int, DeviceLimits] = {}
_modules_lock = threading.Lock()


class CupyBackend(KernelBackend):
    """Arrays are ``cupy.ndarray`` on the current CUDA device."""

    name = "cupy"

    def __init__(self, seed: int = 0, **launch_options):
        ok, why = cupy_status()
        if not ok:
            raise BackendUnavailableError(why)
        import cupy

        self.xp = cupy
        super().__init__(seed, **launch_options)

    # -- random numbers: a cuRAND XORWOW generator whose raw state can be saved ---------------
    def seed(self, seed: int) -> None:
        self._seed = int(seed)
        self._bit_generator = self.xp.random.XORWOW(self._seed)
        self.rng = self.xp.random.Generator(self._bit_generator)

    def get_rng_state(self) -> dict:
        """The cuRAND state bytes (base64) -- several MB: one state per generator thread."""
        bits = self._raw_rng_state()
        return {"family": "cupy-xorwow", "seed": self._seed, "size": int(bits.size),
                "state": base64.b64encode(self.xp.asnumpy(bits).tobytes()).decode("ascii")}

    def set_rng_state(self, state: dict) -> None:
        if state.get("family") != "cupy-xorwow":
            raise ConfigError(f"cupy backend cannot restore an RNG state of family "
                              f"{state.get('family')!r}; expected 'cupy-xorwow'")
        self.seed(state["seed"])
        bits = self._raw_rng_state()
        raw = np.frombuffer(base64.b64decode(state["state"]), dtype=np.int8)
        if raw.size != bits.size:
            raise ConfigError(f"cupy RNG state has {raw.size} bytes, this device's generator "
                              f"has {bits.size} (saved on a GPU with another SM count?)")
        bits[...] = self.xp.asarray(raw)

    def _raw_rng_state(self):
        bits = getattr(self._bit_generator, "_state", None)
        if bits is None:
            raise ConfigError("this CuPy version does not expose the cuRAND generator state "
                              "(XORWOW._state), so the cupy backend cannot save or restore it")
        return bits

    # -- host <-> device -----------------------------------------------------------------------
    def asarray(self, a, dtype=None):
        if not isinstance(a, self.xp.ndarray):
            a = host_array(a)
        else:
            check_numeric(a)
        return self.xp.asarray(a, dtype=dtype)

    def to_host(self, a):
        return self.xp.asnumpy(a)

    def synchronize(self) -> None:
        self.xp.cuda.get_current_stream().synchronize()

    def scatter_add(self, target, index, values) -> None:
        import cupyx

        cupyx.scatter_add(target, index, values)

    def describe(self) -> dict:
        cuda = self.xp.cuda
        device = cuda.Device()
        props = cuda.runtime.getDeviceProperties(device.id)
        free, total = cuda.runtime.memGetInfo()
        return {"backend": self.name, "cupy": self.xp.__version__, "device_id": device.id,
                "device": props["name"].decode(), "compute_capability": device.compute_capability,
                "memory_total_gb": round(total / 2**30, 2),
                "memory_free_gb": round(free / 2**30, 2),
                "cuda_runtime": cuda.runtime.runtimeGetVersion()}

    # -- kernels ----------------------------------------------------------------------------------
    def _function(self, module: str, name: str):
        key = (self.xp.cuda.Device().id, module, name)
        function = _functions.get(key)
        if function is None:
            function = self._module(module).get_function(name)
            with _modules_lock:
                _functions.setdefault(key, function)
        return function

    def device_limits(self) -> DeviceLimits:
        device = self.xp.cuda.Device().id
        if device not in _limits:
            _limits[device] = DeviceLimits.from_properties(
                self.xp.cuda.runtime.getDeviceProperties(device))
        return _limits[device]

    def _module(self, module: str):
        key = (self.xp.cuda.Device().id, module)
        with _modules_lock:
            if key not in _modules:
                _modules[key] = self.xp.RawModule(code=kernel_sources.source(module),
                                                  options=NVRTC_OPTIONS)
            return _modules[key]
