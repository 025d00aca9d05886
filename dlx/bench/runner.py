"""Run the benchmark cases over the available columns and assemble the result document.

Columns: the speed backends (``numpy``; ``cupy`` where a GPU works) and ``torch`` (PyTorch
on the CPU, when importable). The ``emulated`` backend runs the CUDA kernels on the CPU for
correctness only and is never timed. PyTorch gets NumPy's BLAS thread count.
"""

from __future__ import annotations

import sys
from typing import Callable

from dlx import backends
from dlx.bench import cases as C
from dlx.bench import cost_model, memory, report, targets
from dlx.bench.machine import blas_threads, machine_info
from dlx.bench.timing import Subject, measure_interleaved

SPEED_BACKENDS = ("numpy", "cupy")
MODES = {  # timing budget per row and column
    "quick": {"min_time": 0.25, "min_rounds": 3, "max_rounds": 300},
    "full": {"min_time": 1.5, "min_rounds": 10, "max_rounds": 2000},
}


def column_status(with_torch: bool = True) -> tuple[list[str], dict[str, str]]:
    """(columns to run, {absent column: reason})."""
    columns, absent = ["numpy"], {}
    ok, why = backends.cupy_status()
    if ok:
        columns.append("cupy")
    else:
        absent["cupy"] = why
    if with_torch:
        try:
            from dlx.bench.torch_ref import torch_module

            torch_module()
            columns.append("torch")
        except C.Unavailable as exc:
            absent["torch"] = str(exc)
    else:
        absent["torch"] = "left out (--no-torch)"
    return columns, absent


def subject(case: C.Case, column: str) -> Subject:
    """Build ``case`` for ``column``; raises Unavailable with the reason."""
    if column == "torch":
        if case.torch is None:
            raise C.Unavailable("no PyTorch equivalent")
        return Subject(case.torch(), activate=lambda: backends.set_backend("numpy"))
    backend = backends.get(column)
    with backends.use(backend):
        fn = case.dlx()
    return Subject(fn, sync=backend.synchronize, activate=lambda: backends.set_backend(backend))


def select_cases(pattern: str | None) -> list[C.Case]:
    """Every case, or those whose name contains ``pattern`` (case-insensitive)."""
    chosen = C.all_cases()
    if pattern:
        chosen = [c for c in chosen if pattern.lower() in c.name.lower()]
    return chosen


def time_case(case: C.Case, columns: list[str], mode: str) -> dict:
    """One table row for ``case``: median time per call (or per op) in every column."""
    unit = "s/op" if case.ops else "s"
    row = report.make_row(case.name, case.group, unit, case.flops)
    subjects = {}
    for column in columns:
        try:
            subjects[column] = subject(case, column)
        except C.Unavailable as exc:
            row["missing"][column] = str(exc)
    previous = backends.current()
    try:
        timings = measure_interleaved(subjects, **MODES[mode]) if subjects else {}
    finally:
        backends.set_backend(previous)
    per = case.ops() if case.ops else 1
    for column, timing in timings.items():
        cell = timing.as_dict()
        for key in ("value", "q1", "q3", "best"):
            cell[key] /= per
        if case.ops:
            cell["ops"] = per
        row["cells"][column] = cell
    return row


def memory_rows(chosen: list[C.Case], columns: list[str], threads: int | None) -> list[dict]:
    """Peak host memory (every CPU column) and device memory (cupy) per training step."""
    mem_cases = [c for c in chosen if c.memory]
    if not mem_cases:
        return []
    host = {c.name: report.make_row(f"peak host memory: {c.name}", "memory", "B")
            for c in mem_cases}
    device = {c.name: report.make_row(f"peak device memory: {c.name}", "memory", "B")
              for c in mem_cases}
    for column in columns:
        if column == "cupy":
            backend = backends.get("cupy")
            for case in mem_cases:
                try:
                    step = subject(case, column).fn
                except C.Unavailable as exc:
                    device[case.name]["missing"][column] = str(exc)
                    continue
                with backends.use(backend):
                    step()
                    device[case.name]["cells"][column] = {
                        "value": memory.device_peak(step, backend)}
            continue
        for case in mem_cases:
            got = memory.host_peak(case.name, column, threads)
            if "error" in got:
                host[case.name]["missing"][column] = got["error"]
            else:
                host[case.name]["cells"][column] = {"value": got["rss_bytes"], **got}
    rows = list(host.values())
    if "cupy" in columns:
        rows += list(device.values())
    return rows


def run(mode: str = "quick", pattern: str | None = None, with_torch: bool = True,
        with_memory: bool = True, threads: int | None = None,
        log: Callable[[str], None] | None = None) -> dict:
    """Run the suite and return the result document (see :mod:`dlx.bench.report`).

    ``threads``: BLAS threads for NumPy (via threadpoolctl) and PyTorch; default: NumPy's.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if threads:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(threads, user_api="blas"):
            return run(mode, pattern, with_torch, with_memory, None, log)
    columns, absent = column_status(with_torch)
    threads = blas_threads()
    if "torch" in columns and threads:
        from dlx.bench.torch_ref import torch_module

        torch_module().set_num_threads(threads)
    chosen = select_cases(pattern)
    rows = []
    for i, case in enumerate(chosen, 1):
        log(f"[{i}/{len(chosen)}] {case.name}")
        rows.append(time_case(case, columns, mode))
    if with_memory:
        log("peak memory per training step (fresh processes)")
        rows += memory_rows(chosen, columns, threads)
    gpu = backends.get("cupy").describe() if "cupy" in columns else None
    result = {"schema": report.SCHEMA, "mode": mode, "threads": threads,
              "machine": machine_info(gpu),
              "columns": [c for c in ("numpy", "cupy", "torch") if c in columns or c in absent],
              "absent": absent, "rows": rows}
    result["targets"] = targets.evaluate(result)
    result["cost_model"] = cost_model.section(result)
    return result
