"""Running independent chunks of an op on all CPU cores.

BLAS parallelises one large GEMM well, but the cache-sized chunks a convolution works on
are too small for that: OpenBLAS's threads spend their time synchronising. Running the
chunks themselves on ``n`` threads, each calling single-threaded BLAS (NumPy releases the
GIL in BLAS and in its copy loops), keeps every core busy: the 64x16x32x32 conv
forward+backward went from 36 to 29 ms on 2 cores. ``n`` is the BLAS thread count in force,
so ``OPENBLAS_NUM_THREADS=1`` keeps dlx on one core. Reading and setting BLAS threads needs
threadpoolctl; without it the chunks run one after another.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()  # one parallel region at a time: the BLAS thread limit is global
_pools: dict[int, ThreadPoolExecutor] = {}
_controller = []


def _blas_controller():
    """A cached threadpoolctl controller of the BLAS libraries, or None without it."""
    if not _controller:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller.append(None)
        else:
            _controller.append(ThreadpoolController().select(user_api="blas"))
    return _controller[0]


def blas_threads() -> int:
    """Threads the loaded BLAS may use now (1 when unknown)."""
    controller = _blas_controller()
    if controller is None or not controller.lib_controllers:
        return 1
    return max(lib.num_threads for lib in controller.lib_controllers)


def map_parallel(fn, chunks) -> list:
    """``[fn(c) for c in chunks]`` on up to :func:`blas_threads` threads, results in order.

    ``fn`` must write only disjoint parts of shared arrays and must not call
    ``map_parallel`` itself.
    """
    workers = min(blas_threads(), len(chunks)) if len(chunks) > 1 else 1
    if workers < 2:
        return [fn(chunk) for chunk in chunks]
    with _lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="dlx-chunk")
        with _blas_controller().limit(limits=1):
            return list(pool.map(fn, chunks))
