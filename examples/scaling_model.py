"""Predicted data-parallel speed-ups from the cost model in dlx.distributed.cost.

    python examples/scaling_model.py --samples-per-s 4788 --params 9802 --batch 64
    python examples/scaling_model.py --measure ...   # also time a 2-process MPI allreduce here

Prints the speed-up for 2-64 workers on 10 Gb/s Ethernet and on NVLink-class links; with
--measure it times MPI_Allreduce between 2 local processes (mpiexec -n 2) to fit this
machine's latency and bandwidth and predicts the 2-process figure to set against the
measured one (examples/distributed_digits.py --throughput).
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from dlx.distributed.cost import ETHERNET_10G, NVLINK, Link, speedup


def _time_allreduce(nbytes: int, repeats: int = 50, blocks: int = 7) -> float:
    """Seconds per allreduce: the fastest of ``blocks`` blocks (a shared machine's other
    load only ever adds time)."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    a = np.ones(max(1, nbytes // 8))
    comm.Allreduce(MPI.IN_PLACE, a)
    best = float("inf")
    for _ in range(blocks):
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(repeats):
            comm.Allreduce(MPI.IN_PLACE, a)
        best = min(best, (time.perf_counter() - start) / repeats)
    return comm.allreduce(best, op=MPI.MAX)


def measure_link(nbytes: int) -> Link:
    """Latency and bandwidth of a local 2-process allreduce (t = latency*2 + S/bw for N=2)."""
    mpiexec = Path(sys.executable).with_name("mpiexec")
    out = subprocess.run([str(mpiexec), "-n", "2", sys.executable, __file__, "--_time",
                          str(nbytes)], check=True, capture_output=True, text=True)
    small, large = json.loads(out.stdout.strip().splitlines()[-1])
    latency = small / 2  # 2 (N - 1) = 2 messages at N = 2
    bandwidth = nbytes / max(large - small, 1e-9)  # 2 (N - 1) / N = 1 at N = 2
    return Link("this machine (MPI shared memory)", bandwidth, latency)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples-per-s", type=float, help="one worker's training speed")
    parser.add_argument("--params", type=int, help="number of parameters")
    parser.add_argument("--bytes-per-param", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64, help="global batch size")
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--_time", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args._time and (args.samples_per_s is None or args.params is None):
        parser.error("--samples-per-s and --params are required (e.g. --samples-per-s 4788 "
                     "--params 9802, a CNN on the digits: see the docstring)")
    if args._time:
        times = [_time_allreduce(8), _time_allreduce(args._time)]
        from mpi4py import MPI

        if MPI.COMM_WORLD.rank == 0:
            print(json.dumps(times))
        return
    t_sample, nbytes = 1 / args.samples_per_s, args.params * args.bytes_per_param
    links = [ETHERNET_10G, NVLINK] + ([measure_link(nbytes)] if args.measure else [])
    workers = [2, 4, 8, 16, 32, 64]
    print(f"gradient {nbytes / 1e3:.1f} kB, {t_sample * 1e6:.1f} us/sample, batch {args.batch}")
    print("| link | latency | bandwidth | " + " | ".join(f"N={n}" for n in workers) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in workers) + " |")
    for link in links:
        cells = [f"{speedup(t_sample, args.batch, nbytes, n, link):.2f}" for n in workers]
        print(f"| {link.name} | {link.latency * 1e6:.1f} us | {link.bandwidth / 1e9:.2f} GB/s | "
              + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
