"""Wall-clock timing of zero-argument callables, interleaved so that ratios are fair.

On a small shared machine the load drifts from second to second. Timing the columns of one
row (dlx NumPy, CuPy, PyTorch) in alternating rounds exposes each to the same drift, so the
ratio between two medians is taken pair by pair in one run. Each timed call is followed by
``sync`` (device synchronisation on a GPU) before the clock stops.

The columns alternate in blocks of calls (about ``block_time`` seconds each) rather than call
by call, and the first call of every block of cheap calls is not counted: thread pools of different
libraries (OpenBLAS, PyTorch's OpenMP) spin for a while after their last task, and a
block-switch must not charge that spinning to the next library. OpenBLAS's default spin
(~0.1 s) outlasts a whole block: dlx shortens it when it can (``BLAS spin:`` line of the
header, :mod:`dlx.backends.blas_spin`); without that, a threaded NumPy block slows the
PyTorch block after it (2-thread GEMM row: 24-28 ms against 12-15 ms).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable


def _noop() -> None:
    pass


@dataclass(frozen=True)
class Subject:
    """What one column times: ``fn()`` then ``sync()``; ``activate()`` runs before each block
    (e.g. making the column's backend the active one)."""

    fn: Callable[[], object]
    sync: Callable[[], None] = _noop
    activate: Callable[[], None] = _noop


@dataclass(frozen=True)
class Timing:
    """Seconds per call: median, quartiles, fastest, and the number of timed rounds."""

    median: float
    q1: float
    q3: float
    best: float
    rounds: int

    def as_dict(self) -> dict:
        return {"value": self.median, "q1": self.q1, "q3": self.q3, "best": self.best,
                "rounds": self.rounds}


def summarize(samples: list[float]) -> Timing:
    """Median, quartiles (inclusive method) and minimum of the timed rounds."""
    if len(samples) == 1:
        q1 = q3 = samples[0]
    else:
        q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return Timing(statistics.median(samples), q1, q3, min(samples), len(samples))


def _timed(fn: Callable[[], object], sync: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def measure_interleaved(subjects: dict[str, Subject],
                        min_time: float = 0.3, min_rounds: int = 5, max_rounds: int = 500,
                        warmup: int = 1, block_time: float = 0.05) -> dict[str, Timing]:
    """Time every ``name -> Subject`` in alternating blocks; return each one's Timing.

    Each function is first called ``warmup`` times (caches, lazy allocation, JIT-ed kernels).
    Blocks continue until every function has at least ``min_rounds`` timed calls and
    ``min_time`` seconds of them, or ``max_rounds`` timed calls.
    """
    per_call = {}
    for name, s in subjects.items():
        s.activate()
        for _ in range(warmup - 1):
            s.fn()
        per_call[name] = _timed(s.fn, s.sync)
    samples: dict[str, list[float]] = {name: [] for name in subjects}

    def unfinished(name):
        done = samples[name]
        return len(done) < max_rounds and (len(done) < min_rounds or sum(done) < min_time)

    while any(unfinished(name) for name in subjects):
        for name, s in subjects.items():
            if not unfinished(name):
                continue
            s.activate()
            calls = max(1, min(max_rounds, int(block_time / max(per_call[name], 1e-7))))
            if per_call[name] < block_time:
                _timed(s.fn, s.sync)  # absorbs the previous block's thread-pool wind-down
            for _ in range(calls):
                samples[name].append(_timed(s.fn, s.sync))
    return {name: summarize(values) for name, values in samples.items()}
