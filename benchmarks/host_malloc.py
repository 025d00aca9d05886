"""A training step with glibc's default malloc thresholds and with dlx's, one process each.

    python benchmarks/host_malloc.py [--case "adam step resnet b32"] [--threads 1 2] [--rounds 2]

Every (framework, allocator, threads) combination runs in a fresh child process, alone, so
neither framework's allocations move the other's thresholds (``dlx bench`` times both in
one process, where they share whatever thresholds the process has). "system" is glibc's
start-up state (``DLX_HOST_MALLOC=system``); "dlx" the thresholds the NumPy backend sets
(:mod:`dlx.backends.host_allocator`), which a PyTorch child gets the same way. Each child
warms up for three steps, then reports the median of 30 steps and the minor page faults per
step. The children run in alternating order, ``--rounds`` times; a table of medians follows.
PyTorch columns need torch installed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

FRAMEWORKS = ("dlx", "torch")
ALLOCATORS = ("system", "dlx")


def child(case_name: str, framework: str, threads: int) -> dict:
    """Time ``case_name``'s step in this process: {"ms", "faults"}."""
    from threadpoolctl import threadpool_limits

    from dlx.bench import cases

    case = cases.find(case_name)
    limits = threadpool_limits(threads, user_api="blas")  # noqa: F841 (kept in force)
    if framework == "torch":
        from dlx.bench.torch_ref import torch_module

        torch_module().set_num_threads(threads)
        step = case.torch()
    else:
        step = case.dlx()
    for _ in range(3):
        step()
    times = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(30):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return {"ms": 1e3 * statistics.median(times), "faults": faults / 30}


def run_child(case_name: str, framework: str, allocator: str, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    env["DLX_HOST_MALLOC"] = allocator
    cmd = [sys.executable, __file__, "--child", framework, "--case", case_name,
           "--threads", str(threads)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env,
                          timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"child {framework}/{allocator} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="adam step resnet b32")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        json.dump(child(args.case, args.child, args.threads[0]), sys.stdout)
        return
    try:
        import torch  # noqa: F401
        frameworks = FRAMEWORKS
    except ImportError:
        frameworks = ("dlx",)
        print("torch is not installed: dlx columns only")
    results: dict = {}
    for _ in range(args.rounds):
        for threads in args.threads:
            for framework in frameworks:
                for allocator in ALLOCATORS:
                    got = run_child(args.case, framework, allocator, threads)
                    results.setdefault((threads, framework, allocator), []).append(got)
                    print(f"{args.case}, {threads} thread(s), {framework}, {allocator} malloc: "
                          f"{got['ms']:.1f} ms, {got['faults']:.0f} faults/step", flush=True)
    print(f"\nmedians over {args.rounds} round(s): ms per step (faults per step)")
    print("threads  " + "  ".join(f"{f}/{a:<6}".ljust(18) for f in frameworks
                                  for a in ALLOCATORS))
    for threads in args.threads:
        cells = []
        for framework in frameworks:
            for allocator in ALLOCATORS:
                runs = results[(threads, framework, allocator)]
                ms = statistics.median(r["ms"] for r in runs)
                faults = statistics.median(r["faults"] for r in runs)
                cells.append(f"{ms:7.1f} ({faults:6.0f})".ljust(18))
        print(f"{threads:<7}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
