"""How many threads and blocks a kernel launch gets, and which index width its kernel uses.

Decided from the device's properties (:class:`DeviceLimits`), the same way on the GPU
(``cudaGetDeviceProperties``) and in the emulation (which pretends to be an H100 SXM, so
it launches the grids a GPU would):

* element-wise kernels (grid-stride loops): ``block`` threads, and at most
  ``sm_count * (max_threads_per_sm // block) * WAVES`` blocks -- enough resident threads to
  fill every SM ``WAVES`` times; grid-stride loops cover the rest;
* row kernels (softmax cross-entropy): a warp per row while ``k <= WARP_MAX_CLASSES``
  (PyTorch and ONNX Runtime switch at the same order of size), else a block per row of
  :func:`row_block_threads` threads;
* window kernels decode indices in 32-bit arithmetic (the ``_i32`` entry points) when every
  array extent of the launch fits in 31 bits, else in 64-bit.
"""

from __future__ import annotations

from dataclasses import dataclass

#: largest value of a 32-bit signed index
INT32_MAX = 2 ** 31 - 1
#: times the resident-thread capacity of the device that one grid-stride launch covers
WAVES = 2
WARP = 32
#: up to this many classes a warp owns a softmax row; beyond, a whole block does
WARP_MAX_CLASSES = 1024
#: elements per thread a block-per-row launch aims at
ROW_ITEMS_PER_THREAD = 8


@dataclass(frozen=True)
class DeviceLimits:
    """The device properties that launch configurations depend on."""

    name: str
    sm_count: int
    max_threads_per_block: int
    max_threads_per_sm: int

    @classmethod
    def from_properties(cls, props: dict) -> DeviceLimits:
        """From ``cupy.cuda.runtime.getDeviceProperties(device)``."""
        name = props["name"]
        return cls(name.decode() if isinstance(name, bytes) else str(name),
                   int(props["multiProcessorCount"]), int(props["maxThreadsPerBlock"]),
                   int(props["maxThreadsPerMultiProcessor"]))


#: what the emulation reports: an H100 SXM5 -- 132 SMs (NVIDIA H100 Tensor Core GPU
#: datasheet), 2048 resident threads per SM and 1024 per block (CUDA C++ Programming Guide,
#: compute capability 9.0)
EMULATED_DEVICE = DeviceLimits("emulated H100 SXM5", 132, 1024, 2048)


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def grid_size(n_units: int, units_per_block: int, block: int, limits: DeviceLimits,
              max_blocks: int | None = None) -> int:
    """Blocks for ``n_units`` work units (elements, rows) at ``units_per_block`` per block:
    no more than needed, no more than ``max_blocks`` or the device's WAVES-fold capacity."""
    cap = (max_blocks if max_blocks is not None
           else limits.sm_count * max(1, limits.max_threads_per_sm // block) * WAVES)
    return max(1, min(-(-n_units // units_per_block), cap))


def index_suffix(*extents: int) -> str:
    """``"_i32"`` when every extent (array size) fits a 32-bit signed index, else ``""``."""
    return "_i32" if max(extents) <= INT32_MAX else ""


def row_block_threads(k: int, limits: DeviceLimits) -> int:
    """Threads of a block that owns one row of ``k`` classes: about ROW_ITEMS_PER_THREAD
    classes each, a multiple of the warp, between 128 and the device's maximum."""
    return max(128, min(round_up(-(-k // ROW_ITEMS_PER_THREAD), WARP),
                        limits.max_threads_per_block))
