"""Peak memory of a training step, measured the same way for dlx and PyTorch.

Host: one fresh child process per (case, column). After the imports it warms the library up
with the same model at batch 2 (thread pools, JIT-compiled kernels, lazy globals: costs a
process pays once, not per step), then notes the resident set size, resets the kernel's
high-water mark (``echo 5 > /proc/self/clear_refs``), builds the case (model, optimiser,
batch), runs three calls and reads ``VmHWM``. The figure is ``VmHWM - VmRSS(before)``:
everything training needs at its peak - parameters, optimiser state, the batch, activations
kept for backward, temporaries and any buffers a framework caches between steps (dlx's NumPy
buffers are charged to it). The child runs with glibc's mmap threshold fixed at 64 KiB, so
freed large blocks go back to the system at once and the resident size follows live memory
for both frameworks alike (the NumPy backend leaves malloc settings in the environment
alone, see :mod:`dlx.backends.host_allocator`; outside this measurement it keeps up to
64 MiB of freed memory per malloc arena for the next step, memory this figure leaves out).
For dlx columns the child also reports the peak of Python/NumPy allocations through
``tracemalloc`` over the same calls (NumPy registers its buffers there; PyTorch does not).

Device (CuPy): the memory pool is emptied after a warm-up call, one call runs, and the
pool's size then, minus the arrays alive before, is the step's high-water mark.

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


def footprint(build, calls: int = 3) -> tuple[int, int]:
    """(resident-set high-water mark, peak traced allocations) in bytes above the state
    before ``step = build()`` and ``calls`` calls of ``step()``."""
    gc.collect()
    tracemalloc.start()
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    step = build()
    for _ in range(calls):
        step()
    peak_rss = (_status_kib("VmHWM") - before) * 1024
    peak_traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak_rss, peak_traced


def device_peak(step, backend) -> int:
    """Bytes the CuPy memory pool held at most above its live arrays during one ``step()``."""
    pool = backend.xp.get_default_memory_pool()
    backend.synchronize()
    pool.free_all_blocks()
    base = pool.used_bytes()
    step()
    backend.synchronize()
    return pool.total_bytes() - base


def child_main(argv=None) -> None:
    """Entry point of the child: print {"rss_bytes", "tracemalloc_bytes"} or {"error"}."""
    parser = argparse.ArgumentParser(prog="python -m dlx.bench.memory")
    parser.add_argument("--column", required=True)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("case")
    args = parser.parse_args(argv)
    case = C.find(args.case)
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    if args.column == "torch":
        from dlx.bench import torch_ref

        if args.threads:
            torch_ref.torch_module().set_num_threads(args.threads)
        build = case.torch
        warm = torch_ref.adam_step(case.tags["model"], 2) if "model" in case.tags else None
    else:
        backends.set_backend(args.column)
        build = case.dlx
        warm = C.dlx_adam_step(case.tags["model"], 2) if "model" in case.tags else None
    try:
        if warm is not None:
            step = warm()
            for _ in range(2):
                step()
            del step
        rss, traced = footprint(build)
    except C.Unavailable as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return
    result = {"rss_bytes": rss}
    if args.column != "torch":
        result["tracemalloc_bytes"] = traced
    json.dump(result, sys.stdout)


def host_peak(name: str, column: str, threads: int | None, timeout: float = 300) -> dict:
    """Run a fresh child for case ``name`` in ``column``: {"rss_bytes", ...} or {"error"}."""
    ok, why = host_supported()
    if not ok:
        return {"error": why}
    cmd = [sys.executable, "-m", "dlx.bench.memory", "--column", column, name]
    if threads:
        cmd[-1:-1] = ["--threads", str(threads)]
    env = {**os.environ, **CHILD_ENV}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": f"memory child failed: {tail[0]}"}
    return json.loads(proc.stdout)


if __name__ == "__main__":
    child_main()
