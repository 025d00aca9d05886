"""Command line of the benchmark runner: ``dlx bench``, ``python -m dlx.bench`` and
``python benchmarks/run.py`` all land in :func:`main`.

    dlx bench                      # quick run: table on stdout, JSON to dlx-bench.json
    dlx bench --full -k lenet      # longer timing, only rows whose name contains "lenet"
    dlx bench --compare A.json B.json
    dlx bench --from-pytest out.json   # the table from `pytest benchmarks --benchmark-json`
    dlx bench --gpu-check [OUT]        # the GPU check (cost model only without a GPU)
"""

from __future__ import annotations

import argparse
import sys

from dlx.bench import report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``dlx bench`` (shared with the `dlx` command's subparser)."""
    parser.add_argument("--full", action="store_true",
                        help="time every row longer (about 1.5 s per column instead of 0.25 s)")
    parser.add_argument("-k", "--filter", metavar="TEXT", default=None,
                        help="only rows whose name contains TEXT (case-insensitive)")
    parser.add_argument("--json", metavar="PATH", default="dlx-bench.json",
                        help="where to write the result (default: %(default)s; '' to skip)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="BLAS threads for NumPy and PyTorch (default: NumPy's current)")
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch column")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the peak-memory rows (they start fresh processes)")
    parser.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"),
                        help="print the change from run A to run B and exit")
    parser.add_argument("--gpu-check", nargs="?", const="dlx-gpu-check", metavar="OUT",
                        help="run the GPU check (parity suite, kernel timings against the cost "
                             "model, host syncs per step, steps vs PyTorch) and write "
                             "OUT/gpu-check.json and .txt; without a GPU: the cost model only")
    parser.add_argument("--from-pytest", metavar="PATH",
                        help="print the table of a pytest-benchmark JSON file written by "
                             "`pytest benchmarks --benchmark-enable --benchmark-json PATH`")


def run_from_args(args: argparse.Namespace) -> int:
    if args.gpu_check:
        from dlx.bench.gpu_check import main as gpu_check

        return gpu_check(["--out", args.gpu_check])
    if args.compare:
        a, b = (report.load(path) for path in args.compare)
        print(report.compare(a, b, *args.compare))
        return 0
    if args.from_pytest:
        from dlx.bench.pytest_json import result_from_pytest

        print(report.render(result_from_pytest(args.from_pytest)))
        return 0
    from dlx.bench.runner import run

    result = run("full" if args.full else "quick", args.filter, with_torch=not args.no_torch,
                 with_memory=not args.no_memory, threads=args.threads)
    print(report.render(result))
    if args.json:
        report.save(result, args.json)
        print(f"\nwrote {args.json}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dlx bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
