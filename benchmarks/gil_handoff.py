"""What two Python threads gain from NumPy calls of a given length (the GIL's hand-offs).

    python benchmarks/gil_handoff.py

NumPy releases the GIL inside each large call and takes it back afterwards; when the other
thread holds it then, the caller sleeps until it is handed over. Part 1 times
``np.add(a, 1, out=b)`` for float32 arrays of several sizes alone, then on two threads at
once (separate arrays), and prints the throughput of the pair against one thread (2.0 =
perfect). Part 2 is the convolution's column copy of one 3-sample chunk (16 channels, 3x3
taps, 32x34 phase rows): nine copies, one per tap, against one strided copy of all nine
(what ``PhaseRowColumns.columns`` does), alone and on two threads. Part 3 is the fixed
cost of handing work to a pool thread: a no-op through ``ThreadPoolExecutor`` submit and
result, as ``cpu_threads.map_parallel`` hands each parallel region to its helper.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

SIZES = (1_000, 10_000, 50_000, 200_000, 1_000_000)
N, C, TAPS, WQ, P = 3, 16, 3, 34, 32 * 34  # chunk of the 64x16x32x32 3x3 convolution


def per_call(work, operands, calls: int) -> tuple[float, float]:
    """(seconds per call on one thread, per call and thread with two threads at once)."""
    work(operands[0], 10)
    start = time.perf_counter()
    work(operands[0], calls)
    alone = (time.perf_counter() - start) / calls
    threads = [threading.Thread(target=work, args=(ops, calls)) for ops in operands]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return alone, (time.perf_counter() - start) / calls


def add_calls(ops, calls):
    a, b = ops
    for _ in range(calls):
        np.add(a, 1.0, out=b)


def chunk_operands(rng):
    phases = rng.standard_normal((N, C, P + 2 * WQ + 2), dtype=np.float32)
    return phases, np.empty((C, TAPS, TAPS, N, P), np.float32)


def copies_per_tap(ops, calls):
    phases, out = ops
    for _ in range(calls):
        for i in range(TAPS):
            for j in range(TAPS):
                start = i * WQ + j
                np.copyto(out[:, i, j], phases[:, :, start:start + P].transpose(1, 0, 2))


def one_strided_copy(ops, calls):
    phases, out = ops
    step = phases.strides[2]
    view = as_strided(phases, shape=out.shape,
                      strides=(phases.strides[1], WQ * step, step, phases.strides[0], step))
    for _ in range(calls):
        np.copyto(out, view)


def main() -> None:
    rng = np.random.default_rng(0)
    print("np.add(a, 1, out=b), float32: us per call alone / each of two threads, pair's gain")
    for size in SIZES:
        operands = [(rng.standard_normal(size, dtype=np.float32),
                     np.empty(size, np.float32)) for _ in range(2)]
        alone, two = per_call(add_calls, operands, max(200, 20_000_000 // size))
        print(f"  {size:>9,}: {alone * 1e6:8.1f} / {two * 1e6:8.1f} us  x{2 * alone / two:.2f}")
    print(f"column copy of a {N}-sample chunk ({C} channels, {TAPS}x{TAPS} taps):")
    for name, work in (("9 copies, one per tap", copies_per_tap),
                       ("1 strided copy", one_strided_copy)):
        operands = [chunk_operands(rng) for _ in range(2)]
        alone, two = per_call(work, operands, 400)
        print(f"  {name:<22} {alone * 1e6:7.1f} / {two * 1e6:7.1f} us  x{2 * alone / two:.2f}")
    with ThreadPoolExecutor(1) as pool:
        pool.submit(int).result()
        calls = 2000
        start = time.perf_counter()
        for _ in range(calls):
            pool.submit(int).result()
        trip = (time.perf_counter() - start) / calls
    print(f"a no-op through a pool thread and back (submit + result): {trip * 1e6:.1f} us")


if __name__ == "__main__":
    main()
