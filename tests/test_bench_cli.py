"""The benchmark runner's logic: table, JSON, compare, targets, pytest-benchmark import.

No timing assertions: results are synthetic or only checked for shape.
"""

from __future__ import annotations

import json

import pytest

from dlx.bench import cases as C
from dlx.bench import cli, report, runner, targets
from dlx.bench.pytest_json import result_from_pytest
from dlx.bench.timing import Subject, measure_interleaved, summarize


def _row(name, unit="s", flops=None, group="model", **cells):
    row = report.make_row(name, group, unit, flops)
    row["cells"] = {col: {"value": v} for col, v in cells.items()}
    return row


def _result(rows, absent=None):
    return {"schema": report.SCHEMA, "mode": "quick", "threads": 2,
            "machine": {"created": "now", "cpu": {"model": "cpu", "logical_cores": 2,
                                                  "simd": ["avx2", "sse2"]},
                        "blas": {"internal_api": "openblas", "version": "0", "architecture":
                                 "x", "num_threads": 2}, "gpu": None,
                        "versions": {"numpy": "2"}},
            "columns": ["numpy", "cupy", "torch"],
            "absent": absent or {"cupy": "no GPU here"}, "rows": rows}


def test_table_shows_median_ratio_gflops_and_why_a_column_is_absent():
    result = _result([_row("gemm", flops=2e9, group="reference", numpy=0.01, torch=0.02),
                      _row("peak host memory: x", unit="B", numpy=3 * 2 ** 20,
                           torch=2 * 2 ** 20)])
    text = report.table(result)
    lines = text.splitlines()
    assert lines[0].split() == ["benchmark", "numpy", "cupy", "torch"]
    gemm = next(line for line in lines if line.startswith("gemm"))
    assert "10.00 ms 1.00x 200 GF/s" in gemm and "20.00 ms 2.00x 100 GF/s" in gemm
    mem = next(line for line in lines if line.startswith("peak host"))
    assert "3.00 MiB 1.50x" in mem and "2.00 MiB 1.00x" in mem
    assert "cupy: absent - no GPU here" in text


def test_missing_cell_reason_is_listed_under_the_table():
    row = _row("conv", numpy=0.1)
    row["missing"]["torch"] = "no PyTorch equivalent"
    text = report.table(_result([row]))
    assert "n/a" in text.splitlines()[2]
    assert "torch n/a in 1 row(s) (conv): no PyTorch equivalent" in text


def test_json_round_trip_and_schema_check(tmp_path):
    result = _result([_row("a", numpy=1.0)])
    path = tmp_path / "r.json"
    report.save(result, str(path))
    assert report.load(str(path)) == result
    path.write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError, match="not a dlx bench result"):
        report.load(str(path))


def test_compare_prints_relative_change_per_cell(tmp_path, capsys):
    a = _result([_row("step", numpy=0.010, torch=0.020), _row("gone", numpy=1.0)])
    b = _result([_row("step", numpy=0.015, torch=0.010), _row("new", numpy=1.0)])
    b["machine"]["versions"] = {"numpy": "3"}
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    report.save(a, str(pa))
    report.save(b, str(pb))
    assert cli.main(["--compare", str(pa), str(pb)]) == 0
    out = capsys.readouterr().out
    step_numpy = next(l for l in out.splitlines() if l.startswith("step") and "numpy" in l)
    assert "+50.0%" in step_numpy
    step_torch = next(l for l in out.splitlines() if l.startswith("step") and "torch" in l)
    assert "-50.0%" in step_torch
    assert "only in" in out and "new" in out
    assert "versions differs" in out


def test_targets_met_missed_and_unmeasured():
    rows = [_row("adam step mlp-64-128-64-10 b64", numpy=0.001, torch=0.003),
            _row("adam step mlp-784-256-128-10 b128", numpy=0.012, torch=0.010),
            _row(targets.GEMM_ROW, flops=100e9, numpy=1.0),
            _row(targets.CONV_ROW, flops=30e9, numpy=1.0),
            _row(targets.OVERHEAD_ROW, unit="s/op", numpy=25e-6),
            _row(targets.RAW_ROW, unit="s/op", numpy=10e-6)]
    got = {t["name"]: t for t in targets.evaluate(_result(rows))}
    assert got["small MLP Adam step b64"]["ok"] is True
    assert got["small MLP Adam step b64"]["value"] == pytest.approx(3.0)
    assert got["MLP 784-256-128-10 Adam step b128"]["ok"] is False
    assert got["conv 64x16x32x32->32 3x3 fwd+bwd"]["value"] == pytest.approx(0.3)
    assert got["conv 64x16x32x32->32 3x3 fwd+bwd"]["ok"] is False
    assert got["autodiff overhead per op"]["value"] == pytest.approx(15e-6)
    assert got["autodiff overhead per op"]["ok"] is True
    assert got["LeNet-5 Adam step b64"]["ok"] is None


def test_every_target_row_is_a_benchmark_row():
    names = {c.name for c in C.all_cases()}
    names |= {f"peak host memory: {c.name}" for c in C.all_cases() if c.memory}
    for row in (targets.CONV_ROW, targets.GEMM_ROW, targets.MEMORY_ROW,
                targets.OVERHEAD_ROW, targets.RAW_ROW):
        assert row in names


def test_deep_narrow_graph_op_count():
    depth = C.DEEP_NARROW["depth"]
    assert C.deep_narrow_ops() == 2 * depth + 2  # linear + relu per hidden layer, head, loss


def test_interleaved_timing_collects_rounds_for_every_subject():
    calls = {"a": 0, "b": 0}

    def make(name):
        def fn():
            calls[name] += 1
        return Subject(fn)

    got = measure_interleaved({"a": make("a"), "b": make("b")}, min_time=0.0, min_rounds=4,
                              max_rounds=10, block_time=0.0)
    assert got["a"].rounds >= 4 and got["b"].rounds >= 4
    assert calls["a"] >= got["a"].rounds
    t = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (t.median, t.best) == (3.0, 1.0)


def test_time_case_builds_row_and_records_unavailable_columns(monkeypatch):
    monkeypatch.setitem(runner.MODES, "quick", {"min_time": 0.0, "min_rounds": 2,
                                                "max_rounds": 2})

    def no_torch():
        raise C.Unavailable("not here")

    case = C.Case("tiny", "primitive", lambda: (lambda: None), no_torch, flops=10.0)
    row = runner.time_case(case, ["numpy", "torch"], "quick")
    assert row["cells"]["numpy"]["rounds"] == 2 and row["flops"] == 10.0
    assert row["missing"] == {"torch": "not here"}


def test_table_from_pytest_benchmark_json(tmp_path, capsys):
    def bench(row, column, median, **extra):
        return {"name": row, "stats": {"median": median, "q1": median, "q3": median,
                                       "min": median, "rounds": 5},
                "extra_info": {"row": row, "column": column, "group": "model", **extra}}

    data = {"datetime": "now", "machine_info": {},
            "benchmarks": [bench("adam step mlp-64-128-64-10 b64", "numpy", 0.001,
                                 peak_host_bytes=2 ** 20),
                           bench("adam step mlp-64-128-64-10 b64", "torch", 0.004),
                           bench("overhead", "numpy", 0.001, ops=100)]}
    path = tmp_path / "pb.json"
    path.write_text(json.dumps(data))
    result = result_from_pytest(str(path))
    rows = {r["name"]: r for r in result["rows"]}
    assert rows["overhead"]["cells"]["numpy"]["value"] == pytest.approx(1e-5)
    assert rows["peak host memory: adam step mlp-64-128-64-10 b64"]["cells"]["numpy"][
        "value"] == 2 ** 20
    assert result["targets"][0]["ok"] is True
    assert cli.main(["--from-pytest", str(path)]) == 0
    assert "adam step mlp-64-128-64-10 b64" in capsys.readouterr().out


def test_header_names_a_blas_kernel_forced_by_the_environment():
    result = _result([_row("a", numpy=1.0)])
    assert "forced by" not in report.header_text(result)
    result["machine"]["env"] = {"OPENBLAS_CORETYPE": "Haswell"}
    blas_line = next(line for line in report.header_text(result).splitlines()
                     if line.startswith("BLAS:"))
    assert blas_line.startswith("BLAS: openblas 0 x (forced by OPENBLAS_CORETYPE=Haswell)")


def test_header_and_compare_name_the_malloc_thresholds_both_columns_share():
    result = _result([_row("a", numpy=1.0)])
    malloc_line = [line for line in report.header_text(result).splitlines()
                   if line.startswith("malloc:")]
    assert malloc_line == ["malloc: not recorded"]
    result["machine"]["malloc"] = {"policy": "dlx", "glibc": "2.36",
                                   "mmap_threshold": 32 << 20, "trim_threshold": 64 << 20}
    assert ("malloc: glibc 2.36, dlx's thresholds (mmap 32 MiB, trim 64 MiB) for every column"
            in report.header_text(result).splitlines())
    other = _result([_row("a", numpy=1.0)])
    other["machine"]["malloc"] = {"policy": "system", "reason": "DLX_HOST_MALLOC=system"}
    assert ("malloc: the system's (DLX_HOST_MALLOC=system)"
            in report.header_text(other).splitlines())
    assert "note: malloc differs" in report.compare(result, other)


def test_header_and_compare_name_the_blas_spin():
    result = _result([_row("a", numpy=1.0)])
    assert "BLAS spin: not recorded" in report.header_text(result).splitlines()
    result["machine"]["blas_spin"] = {"policy": "dlx", "log2_cycles": 20}
    assert ("BLAS spin: 2^20 cycles (dlx's setting, OPENBLAS_THREAD_TIMEOUT)"
            in report.header_text(result).splitlines())
    other = _result([_row("a", numpy=1.0)])
    other["machine"]["blas_spin"] = {"policy": "system", "reason": "DLX_BLAS_SPIN=system"}
    assert "BLAS spin: the system's (DLX_BLAS_SPIN=system); with OpenBLAS's default" in \
        report.header_text(other)
    assert "note: BLAS spin differs" in report.compare(result, other)


def test_header_and_compare_name_the_cpu_kernels():
    result = _result([_row("a", numpy=1.0)])
    assert "CPU kernels: not recorded" in report.header_text(result).splitlines()
    result["machine"]["cpu_kernels"] = {"policy": "auto", "engine": "native", "vector_width": 16,
                                        "openmp": True,
                                        "omp_spin": {"policy": "dlx", "spin_count": 30000}}
    assert ("CPU kernels: compiled conv and batch norm (16 float lanes, OpenMP; GOMP_SPINCOUNT "
            "30000 (dlx's setting))" in report.header_text(result).splitlines())
    other = _result([_row("a", numpy=1.0)])
    other["machine"]["cpu_kernels"] = {"policy": "numpy", "engine": "numpy",
                                       "reason": "DLX_CPU_KERNELS=numpy"}
    assert "CPU kernels: NumPy code (DLX_CPU_KERNELS=numpy)" in report.header_text(other)
    assert "note: CPU kernels differs" in report.compare(result, other)


def test_the_machine_record_names_the_kernels_but_not_their_cache_path():
    from dlx.bench.machine import machine_info

    state = machine_info()["cpu_kernels"]
    assert state["engine"] in ("native", "numpy") and "library" not in state
