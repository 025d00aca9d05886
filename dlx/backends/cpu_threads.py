"""Running independent chunks of an op on all CPU cores.

BLAS parallelises one large GEMM well, but the cache-sized chunks a convolution works on
are too small for that: OpenBLAS's threads spend their time synchronising. Running the
chunks themselves on ``n`` threads, each calling single-threaded BLAS (NumPy releases the
GIL in BLAS and in its copy loops), keeps every core busy: the 64x16x32x32 conv
forward+backward went from 36 to 29 ms on 2 cores. ``n`` is the BLAS thread count in force,
so ``OPENBLAS_NUM_THREADS=1`` keeps dlx on one core. Reading and setting BLAS threads needs
threadpoolctl; without it the chunks run one after another.

OpenBLAS's helper threads busy-wait for ~0.1 s after each multi-threaded GEMM, so a
cache-sized GEMM must not wake them: they would compete with the chunk threads (and anything
else) for the cores long after the GEMM has finished.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

#: below this many bytes of (im2col) columns in the whole batch, a convolution is not split
#: for parallel workers: a hand-off to a pool thread and back costs 0.1 ms on 2-vCPU VMs
SPLIT_MIN_BYTES = 256 << 10

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


def map_parallel(fn, chunks, cache_sized: bool = False) -> list:
    """``[fn(c) for c in chunks]`` on up to :func:`blas_threads` threads, results in order.

    The calling thread takes part: it and ``n - 1`` pool threads draw the next chunk from
    one shared iterator until none is left; BLAS runs single-threaded meanwhile. A lone
    chunk runs on the calling thread, with single-threaded BLAS too when ``cache_sized``:
    OpenBLAS's helper threads cost more to wake than such a GEMM gains, and then spin for
    ~0.1 s, taking a core from whatever runs next (45% of a 2-thread ResNet step's CPU
    time went to that spinning, behind the 1x1 convolutions that fit one chunk).
    ``fn`` must write only disjoint parts of shared arrays and must not call
    ``map_parallel`` itself.
    """
    workers = min(blas_threads(), len(chunks))
    if workers < 2:
        if cache_sized and len(chunks) == 1 and blas_threads() > 1:
            with _lock, _blas_controller().limit(limits=1):
                return [fn(chunks[0])]
        return [fn(chunk) for chunk in chunks]
    results = [None] * len(chunks)
    pending = iter(range(len(chunks)))  # next() on it is atomic under the GIL

    def drain():
        for i in pending:
            results[i] = fn(chunks[i])

    with _lock:
        pool = _pools.get(workers - 1)
        if pool is None:
            pool = _pools[workers - 1] = ThreadPoolExecutor(workers - 1,
                                                            thread_name_prefix="dlx-chunk")
        with _blas_controller().limit(limits=1):
            helpers = [pool.submit(drain) for _ in range(workers - 1)]
            try:
                drain()
            finally:
                for helper in helpers:
                    helper.result()
    return results
