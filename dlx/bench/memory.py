"""Peak memory of one call (one training step), measured the same way for dlx and PyTorch.

Host: in a fresh child process per column, for each case: build it, run two warm-up calls
(optimiser state, caches), note the resident set size, reset the kernel's high-water mark
(``echo 5 > /proc/self/clear_refs``), run one call and read ``VmHWM``. The peak is
``VmHWM - VmRSS(before)``: the memory the step needs on top of the model, its optimiser
state and the batch. The child runs with glibc's mmap threshold fixed at 64 KiB, so freed
large blocks go back to the system at once and the resident size follows live memory for
both frameworks alike. For dlx columns the child also reports the peak of NumPy's own
allocations through ``tracemalloc`` (NumPy registers its buffers there; PyTorch does not).

Device (CuPy): the memory pool is emptied after the warm-up, one call runs, and the pool's
total size then is the step's high-water mark (the pool reuses freed blocks).

Linux only for the host figure; elsewhere the table shows why it is missing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tracemalloc

from dlx import backends
from dlx.bench import cases as C

CHILD_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "131072"}


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {field}")


def host_supported() -> tuple[bool, str]:
    if not os.path.exists("/proc/self/clear_refs"):
        return False, "peak host memory needs Linux /proc/self/clear_refs"
    return True, "ok"


def rss_peak(step) -> int:
    """Bytes the resident set grew to above its size before one ``step()``."""
    gc.collect()
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    step()
    return (_status_kib("VmHWM") - before) * 1024


def tracemalloc_peak(step) -> int:
    """Peak bytes of Python/NumPy allocations above the live ones during one ``step()``.

    One untimed call runs with tracing on first, so the arrays a step frees (last step's
    gradients) are traced and their release counts.
    """
    gc.collect()
    tracemalloc.start()
    try:
        step()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def device_peak(step, backend) -> int:
    """Bytes the CuPy memory pool held at most above its live arrays during one ``step()``."""
    pool = backend.xp.get_default_memory_pool()
    backend.synchronize()
    pool.free_all_blocks()
    base = pool.used_bytes()
    step()
    backend.synchronize()
    return pool.total_bytes() - base


def _build(case: C.Case, column: str):
    if column == "torch":
        return case.torch()
    with backends.use(column):
        return case.dlx()


def child_main(argv=None) -> None:
    """Entry point of the child: print {case name: {rss_bytes, tracemalloc_bytes} or error}."""
    parser = argparse.ArgumentParser(prog="python -m dlx.bench.memory")
    parser.add_argument("--column", required=True)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("cases", nargs="+")
    args = parser.parse_args(argv)
    if args.column == "torch" and args.threads:
        from dlx.bench.torch_ref import torch_module

        torch_module().set_num_threads(args.threads)
    out = {}
    for name in args.cases:
        try:
            step = _build(C.find(name), args.column)
        except C.Unavailable as exc:
            out[name] = {"error": str(exc)}
            continue
        with backends.use("numpy" if args.column == "torch" else args.column):
            step()
            step()
            result = {"rss_bytes": rss_peak(step)}
            if args.column != "torch":
                result["tracemalloc_bytes"] = tracemalloc_peak(step)
        out[name] = result
        del step
    json.dump(out, sys.stdout)


def host_peaks(names: list[str], column: str, threads: int | None,
               timeout: float = 300) -> dict[str, dict]:
    """Run the child for ``column`` over ``names``; {name: {...bytes} or {"error": why}}."""
    ok, why = host_supported()
    if not ok:
        return {name: {"error": why} for name in names}
    cmd = [sys.executable, "-m", "dlx.bench.memory", "--column", column]
    if threads:
        cmd += ["--threads", str(threads)]
    env = {**os.environ, **CHILD_ENV}
    proc = subprocess.run(cmd + names, capture_output=True, text=True, env=env,
                          timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {name: {"error": f"memory child failed: {tail[0]}"} for name in names}
    return json.loads(proc.stdout)


if __name__ == "__main__":
    child_main()
