"""pytest-benchmark suite over the cases of :mod:`dlx.bench.cases`.

Run with ``pytest benchmarks --benchmark-enable`` (the project's addopts disable timing, in
which case every case runs once as a smoke test). The ``column`` fixture parameterises over
the speed backends (numpy; cupy where a GPU works) and PyTorch on the CPU, skipping with the
reason where one is absent. ``python -m dlx.bench --from-pytest FILE`` turns the
``--benchmark-json`` output into dlx bench's table.
"""

from __future__ import annotations

import pytest

from dlx import backends
from dlx.bench import cases as C
from dlx.bench import memory, runner
from dlx.bench.machine import blas_threads


def pytest_benchmark_update_machine_info(config, machine_info):
    from dlx.bench.machine import machine_info as dlx_machine_info

    machine_info["dlx"] = dlx_machine_info()


@pytest.fixture(scope="session")
def column_status():
    """(columns, {absent: why}); PyTorch gets NumPy's BLAS thread count."""
    columns, absent = runner.column_status()
    if "torch" in columns and blas_threads():
        from dlx.bench.torch_ref import torch_module

        torch_module().set_num_threads(blas_threads())
    return columns, absent


@pytest.fixture(params=["numpy", pytest.param("cupy", marks=pytest.mark.gpu), "torch"])
def column(request, column_status):
    _, absent = column_status
    if request.param in absent:
        pytest.skip(f"{request.param} absent: {absent[request.param]}")
    return request.param


def run_case(benchmark, case: C.Case, column: str, with_memory: bool = False) -> None:
    """Time ``case`` in ``column`` with pytest-benchmark; record what the table needs."""
    try:
        subject = runner.subject(case, column)
    except C.Unavailable as exc:
        pytest.skip(f"{case.name} [{column}]: {exc}")
    info = {"row": case.name, "column": column, "group": case.group, "flops": case.flops,
            "ops": case.ops() if case.ops else None}
    previous = backends.current()
    subject.activate()
    try:
        def call():
            subject.fn()
            subject.sync()

        benchmark(call)
        if with_memory and column == "cupy":
            info["peak_device_bytes"] = memory.device_peak(subject.fn, backends.get("cupy"))
    finally:
        backends.set_backend(previous)
    if with_memory and column != "cupy":
        info["peak_host_bytes"] = memory.host_peak(case.name, column, blas_threads()).get(
            "rss_bytes")
    benchmark.extra_info.update(info)


def cases_of(*groups: str) -> list:
    return [pytest.param(c, id=c.name.replace(" ", "_")) for c in C.all_cases()
            if c.group in groups]
