"""Training steps with OpenBLAS's default idle spin and with dlx's short one, one process each.

    python benchmarks/blas_spin.py [--case "adam step lenet5 b256" ...] [--rounds 2]

OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` once, when NumPy loads it, so every setting runs
in a fresh child process: one BLAS thread, and two threads with OpenBLAS's spin
(``DLX_BLAS_SPIN=system``, 2^28 cycles) and with dlx's (2^20, :mod:`dlx.backends.blas_spin`).
Each child warms up for three steps, then reports the median of 30 steps and the CPU time
per step of OpenBLAS's helper thread (the first thread after the main one: OpenBLAS starts
it when NumPy loads; read from /proc, so Linux only). Each round also reports the CPU time
a 60 ms sleep costs right after a threaded 512x512 GEMM. The children run in alternating
order, ``--rounds`` times; a table of medians follows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CASES = ("adam step lenet5 b256", "adam step resnet b32", "adam step mlp-784-256-128-10 b128",
         "lstm layer fwd+bwd m64 T50 128->128")
SETTINGS = (("1 thread", 1, "dlx"), ("2, OpenBLAS spin", 2, "system"),
            ("2, dlx spin", 2, "dlx"))
BURN = """
import json, time
import dlx
import numpy as np
a = np.ones((512, 512), np.float32)
burned = []
for _ in range(5):
    a @ a
    start = time.process_time()
    time.sleep(0.06)
    burned.append(time.process_time() - start)
print(json.dumps(1e3 * sorted(burned)[2]))
"""


def child_env(threads: int, spin: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env.update(DLX_BLAS_SPIN=spin, OPENBLAS_NUM_THREADS=str(threads))
    return env


def run(cmd, env) -> object:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env,
                          timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"child {cmd} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def thread_cpu_s() -> dict:
    """{thread id: user + system CPU seconds} of this process's threads."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        found[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def child(case_name: str, threads: int) -> dict:
    """Time ``case_name``'s dlx step here: {"ms", "helper_cpu_ms"} (None: no helper)."""
    import dlx  # noqa: F401 (first: dlx's spin setting needs NumPy not loaded yet)
    from threadpoolctl import threadpool_limits

    from dlx.bench import cases

    limits = threadpool_limits(threads, user_api="blas")  # noqa: F841 (kept in force)
    step = cases.find(case_name).dlx()
    others = sorted(tid for tid in thread_cpu_s() if tid != os.getpid())
    helper = others[0] if others else None
    for _ in range(3):
        step()
    before, times = thread_cpu_s(), []
    for _ in range(30):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    after = thread_cpu_s()
    helper_ms = None if helper is None else 1e3 * (after[helper] - before[helper]) / 30
    return {"ms": 1e3 * statistics.median(times), "helper_cpu_ms": helper_ms}


def step_result(case: str, threads: int, spin: str) -> dict:
    cmd = [sys.executable, __file__, "--child", case, "--threads", str(threads)]
    return run(cmd, child_env(threads, spin))


def cell(runs: list) -> str:
    """Median step time, and the median helper CPU where there is a helper."""
    text = f"{statistics.median(r['ms'] for r in runs):.2f}"
    helper = [r["helper_cpu_ms"] for r in runs if r["helper_cpu_ms"] is not None]
    return text + (f" ({statistics.median(helper):.1f})" if helper else "")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs="+", default=list(CASES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--child", metavar="CASE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        json.dump(child(args.child, args.threads), sys.stdout)
        return
    results: dict = {}
    for _ in range(args.rounds):
        for spin in ("system", "dlx"):
            ms = run([sys.executable, "-c", BURN], child_env(2, spin))
            results.setdefault(("burn", spin), []).append(ms)
            print(f"CPU burned in a 60 ms sleep after a threaded GEMM, {spin} spin: "
                  f"{ms:.1f} ms", flush=True)
        for case in args.case:
            for label, threads, spin in SETTINGS:
                got = step_result(case, threads, spin)
                results.setdefault((case, label), []).append(got)
                helper = got["helper_cpu_ms"]
                print(f"{case}, {label}: {got['ms']:.2f} ms"
                      + ("" if helper is None else f", BLAS helper {helper:.1f} ms CPU"),
                      flush=True)
    print(f"\nmedians over {args.rounds} round(s): ms per step (the BLAS helper's CPU ms per "
          "step)")
    width = max(len(c) for c in args.case)
    print("case".ljust(width) + "".join(f"{label:>24}" for label, _, _ in SETTINGS))
    for case in args.case:
        print(case.ljust(width) + "".join(
            f"{cell(results[(case, label)]):>24}" for label, _, _ in SETTINGS))
    print("helpers' CPU in a 60 ms sleep: " + ", ".join(
        f"{spin} spin {statistics.median(results[('burn', spin)]):.1f} ms"
        for spin in ("system", "dlx")))


if __name__ == "__main__":
    main()
