"""The compiled CPU kernels built for narrower vector units, against PyTorch capped the same way.

    python benchmarks/cpu_kernels_isa.py [--isa native x86-64-v3] [--threads 1 2] [--repeat 15]

On one machine, each setting runs in a fresh process: dlx's kernels built with
``-march=<isa>`` (``native``: this CPU; ``x86-64-v3``: AVX2 + FMA, 8 lanes and 16 vector
registers, what an AVX2-only CPU gets) and PyTorch with oneDNN and ATen capped to the
matching instruction set (``ONEDNN_MAX_CPU_ISA=AVX2``, ``ATEN_CPU_CAPABILITY=avx2`` for
``x86-64-v3``). Rows: the bench's conv row (64x16x32x32 -> 32, 3x3, forward+backward) and
the ResNet b32 Adam step, medians of ``--repeat`` calls in ms, the two frameworks alternating
call by call. This approximates an AVX2 machine on an AVX-512 one (same caches and clock);
it is not a measurement of one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, statistics, sys, time
isa, threads, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
import threadpoolctl
import dlx
from dlx.backends import cpu_kernels
if isa != "native":
    lib = cpu_kernels.load(cpu_kernels.build(march=isa))
    cpu_kernels.library = lambda sanitize=False: lib
import torch
from dlx.bench import cases, torch_ref
threadpoolctl.threadpool_limits(threads)
torch.set_num_threads(threads)
width = cpu_kernels.library().dlx_cpu_vector_width()
rows = {"conv fwd+bwd 64x16x32x32->32 k3": (cases._conv_fwd_bwd, torch_ref.conv_fwd_bwd),
        "adam step resnet b32": (cases.dlx_adam_step("resnet", 32),
                                 torch_ref.adam_step("resnet", 32))}
out = {"vector_width": width}
for name, (build_dlx, build_torch) in rows.items():
    runs = {"dlx": build_dlx(), "torch": build_torch()}
    for fn in runs.values():
        fn(); fn()
    times = {k: [] for k in runs}
    for _ in range(repeat):
        for k, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    out[name] = {k: 1e3 * statistics.median(v) for k, v in times.items()}
print(json.dumps(out))
"""

TORCH_CAPS = {"x86-64-v3": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isa", nargs="+", default=["native", "x86-64-v3"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"{'isa (lanes)':<14} {'threads':>7}  {'row':<32} {'dlx ms':>8} {'torch ms':>9} "
          f"{'ratio':>6}")
    for isa in args.isa:
        for threads in args.threads:
            env = dict(os.environ, **TORCH_CAPS.get(isa, {}))
            proc = subprocess.run([sys.executable, "-c", CHILD, isa, str(threads),
                                   str(args.repeat)], capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                print(f"{isa} {threads}: failed\n{proc.stderr[-2000:]}")
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            label = f"{isa} ({result.pop('vector_width')})"
            for row, t in result.items():
                print(f"{label:<14} {threads:>7}  {row:<32} {t['dlx']:8.2f} {t['torch']:9.2f} "
                      f"{t['dlx'] / t['torch']:5.2f}x")


if __name__ == "__main__":
    main()
