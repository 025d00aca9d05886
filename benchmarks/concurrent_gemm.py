"""Do two single-threaded GEMMs on two threads add up? Against one 2-thread BLAS GEMM.

    python benchmarks/concurrent_gemm.py

For each shape: GFLOP/s of ``a @ b`` with BLAS limited to 1 thread, alone; then on two
Python threads at once (started at one barrier; each thread's own rate, same shape,
separate operands); then alone with 2 BLAS threads. The shapes are the square 1024 and 256
products and one chunk's forward (32 x 144 x 3264) and dW (288 x 3264 x 16) GEMMs of the
64x16x32x32->32 3x3 convolution (docs/benchmarks.md, issue 15). Needs threadpoolctl.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from threadpoolctl import threadpool_limits

SHAPES = {"1024^2": ((1024, 1024), (1024, 1024)), "256^2": ((256, 256), (256, 256)),
          "conv fwd chunk": ((32, 144), (144, 3264)), "conv dW chunk": ((288, 3264), (3264, 16))}


def rate(a, b, repeat, start=None) -> float:
    """GFLOP/s of ``repeat`` products a @ b (after ``start.wait()`` when given)."""
    if start is not None:
        start.wait()
    t0 = time.perf_counter()
    for _ in range(repeat):
        np.matmul(a, b)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] * repeat / (time.perf_counter() - t0) / 1e9


def main():
    rng = np.random.default_rng(0)
    for name, (sa, sb) in SHAPES.items():
        a = [rng.standard_normal(sa).astype(np.float32) for _ in range(2)]
        b = [rng.standard_normal(sb).astype(np.float32) for _ in range(2)]
        repeat = max(5, int(2e9 / (2 * sa[0] * sa[1] * sb[1])))
        with threadpool_limits(1, user_api="blas"):
            rate(a[0], b[0], repeat)
            alone = rate(a[0], b[0], repeat)
            both, start = [0.0, 0.0], threading.Barrier(2)

            def run(i):
                both[i] = rate(a[i], b[i], repeat, start)

            threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        with threadpool_limits(2, user_api="blas"):
            rate(a[0], b[0], repeat)
            two = rate(a[0], b[0], repeat)
        print(f"{name:15s} 1 thread alone {alone:6.1f} GFLOP/s; two at once {both[0]:6.1f} + "
              f"{both[1]:6.1f}; one with 2 BLAS threads {two:6.1f}")


if __name__ == "__main__":
    main()
