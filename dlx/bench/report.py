"""The result document of a benchmark run: building rows, the text table, JSON, comparison.

A result is a JSON-serialisable dict::

    {"schema": "dlx-bench/1", "mode": "quick", "threads": 2, "machine": {...},
     "columns": ["numpy", "cupy", "torch"], "absent": {"cupy": "why"},
     "rows": [{"name", "group", "unit", "flops", "cells": {column: {"value", ...}},
               "missing": {column: "why"}}],
     "targets": [...]}

``unit`` is "s" (seconds per call), "s/op" (seconds per autodiff op) or "B" (bytes). In the
table a time cell reads ``median ms  ratio-to-fastest  GFLOP/s``; a memory cell
``MiB  ratio-to-smallest``.
"""

from __future__ import annotations

import json

from dlx.errors import ConfigError

SCHEMA = "dlx-bench/1"
WIDE_SIMD = ("avx", "fma", "amx", "f16c", "neon", "asimd", "sve")


def make_row(name: str, group: str, unit: str, flops: float | None = None) -> dict:
    return {"name": name, "group": group, "unit": unit, "flops": flops, "cells": {},
            "missing": {}}


def fastest(row: dict) -> float | None:
    values = [c["value"] for c in row["cells"].values() if c.get("value")]
    return min(values) if values else None


def format_value(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value / 2 ** 20:.2f} MiB"
    if unit == "s/op":
        return f"{value * 1e6:.1f} us/op"
    if value < 1e-3:
        return f"{value * 1e6:.1f} us"
    return f"{value * 1e3:.2f} ms"


def format_cell(row: dict, column: str) -> str:
    cell = row["cells"].get(column)
    if cell is None:
        return "-" if column not in row["missing"] else "n/a"
    text = format_value(cell["value"], row["unit"])
    best = fastest(row)
    if len(row["cells"]) > 1 and best:
        text += f" {cell['value'] / best:.2f}x"
    if row.get("flops") and row["unit"] == "s":
        text += f" {row['flops'] / cell['value'] / 1e9:.0f} GF/s"
    return text


def table(result: dict) -> str:
    """The text table: rows are benchmarks, columns backends and PyTorch; notes below."""
    columns = result["columns"]
    header = ["benchmark"] + columns
    lines = [[row["name"]] + [format_cell(row, c) for c in columns] for row in result["rows"]]
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]

    def render(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [render(header), "  ".join("-" * w for w in widths)]
    out += [render(line) for line in lines]
    notes = [f"{col}: absent - {why}" for col, why in result.get("absent", {}).items()]
    reasons = {}
    for row in result["rows"]:
        for col, why in row["missing"].items():
            reasons.setdefault((col, why), []).append(row["name"])
    for (col, why), names in reasons.items():
        if col not in result.get("absent", {}):
            more = ", ..." if len(names) > 1 else ""
            notes.append(f"{col} n/a in {len(names)} row(s) ({names[0]}{more}): {why}")
    if notes:
        out += [""] + notes
    return "\n".join(out)


def targets_text(result: dict) -> str:
    lines = []
    for t in result.get("targets", []):
        status = {True: "MET ", False: "MISS", None: "n/a "}[t["ok"]]
        lines.append(f"[{status}] {t['name']}: {t['detail']} (goal: {t['goal']})")
    return "\n".join(lines)


def header_text(result: dict) -> str:
    m = result["machine"]
    blas = m.get("blas") or {}
    blas_text = (f"{blas.get('internal_api')} {blas.get('version')} {blas.get('architecture')}"
                 if isinstance(blas, dict) else str(blas))
    forced = m.get("env", {}).get("OPENBLAS_CORETYPE")
    if forced:  # e.g. AVX2 kernels on an AVX-512 CPU: NumPy's GEMMs run up to 2x slower
        blas_text += f" (forced by OPENBLAS_CORETYPE={forced})"
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    cpu = m["cpu"]
    return (f"dlx bench ({result['mode']}), {m['created']}\n"
            f"CPU: {cpu['model']}, {cpu['logical_cores']} logical cores, "
            f"load average {cpu.get('load_average')}\n"
            f"SIMD: {' '.join(f for f in cpu['simd'] if f.startswith(WIDE_SIMD)) or 'n/a'}\n"
            f"BLAS: {blas_text}, threads {result['threads']} (PyTorch set to the same)\n"
            f"BLAS spin: {spin_text(m.get('blas_spin'))}\n"
            f"malloc: {malloc_text(m.get('malloc'))}\n"
            f"CPU kernels: {kernels_text(m.get('cpu_kernels'))}\n"
            f"GPU: {m['gpu']['device'] if m.get('gpu') else 'none'}; {versions}"
            + busy_warning(cpu))


def malloc_text(malloc: dict | None) -> str:
    """The host allocator's thresholds, which every column in the process shares."""
    if not malloc:
        return "not recorded"
    if malloc.get("policy") == "dlx":
        return (f"glibc {malloc['glibc']}, dlx's thresholds (mmap {malloc['mmap_threshold'] >> 20}"
                f" MiB, trim {malloc['trim_threshold'] >> 20} MiB) for every column")
    return f"the system's ({malloc.get('reason')})"


def kernels_text(state: dict | None) -> str:
    """What the numpy column's float32 convolutions and batch norms ran on."""
    if not state:
        return "not recorded"
    if state.get("engine") != "native":
        return f"NumPy code ({state.get('reason')})"
    spin = state.get("omp_spin") or {}
    spin_note = (f"GOMP_SPINCOUNT {spin['spin_count']} (dlx's setting)"
                 if spin.get("policy") == "dlx" else f"OpenMP spin: the system's "
                                                     f"({spin.get('reason')})")
    return (f"compiled conv and batch norm ({state['vector_width']} float lanes, "
            f"{'OpenMP' if state.get('openmp') else 'one thread, no OpenMP'}; {spin_note})")


def spin_text(spin: dict | None) -> str:
    """How long OpenBLAS's idle helper threads spin after a threaded call."""
    if not spin:
        return "not recorded"
    if spin.get("policy") == "dlx":
        return f"2^{spin['log2_cycles']} cycles (dlx's setting, OPENBLAS_THREAD_TIMEOUT)"
    return (f"the system's ({spin.get('reason')}); with OpenBLAS's default of ~0.1 s its "
            "helpers woken by a numpy block still spin through the next column's block")


def busy_warning(cpu: dict) -> str:
    """A warning line when the 1-minute load average exceeds the core count."""
    load, cores = cpu.get("load_average"), cpu.get("logical_cores")
    if not load or not cores or load[0] <= cores:
        return ""
    return (f"\nWARNING: load average {load[0]} > {cores} cores while measuring - other "
            "processes shared the CPU; absolute times are inflated, ratios are noisy, and "
            "multi-threaded BLAS stalls on descheduled threads (try --threads 1)")


def render(result: dict) -> str:
    parts = [header_text(result), "", table(result)]
    if result.get("targets"):
        parts += ["", "Targets:", targets_text(result)]
    if result.get("cost_model"):
        from dlx.bench.cost_model import render_section

        parts += ["", render_section(result["cost_model"])]
    return "\n".join(parts)


def save(result: dict, path: str) -> None:
    with open(path, "w") as fh:
        json.dump(result, fh, indent=1, sort_keys=False)
        fh.write("\n")


def load(path: str) -> dict:
    with open(path) as fh:
        result = json.load(fh)
    if result.get("schema") != SCHEMA:
        raise ConfigError(f"{path}: not a dlx bench result (schema {result.get('schema')!r}, "
                         f"expected {SCHEMA!r})")
    return result


def compare(a: dict, b: dict, label_a: str = "A", label_b: str = "B") -> str:
    """The change from run ``a`` to run ``b`` for every (benchmark, column) both measured.

    change = b / a - 1: for times and memory, positive means slower or bigger.
    """
    rows_b = {row["name"]: row for row in b["rows"]}
    header = ["benchmark", "column", label_a, label_b, "change"]
    lines = []
    for row in a["rows"]:
        other = rows_b.get(row["name"])
        if other is None:
            continue
        for col, cell in row["cells"].items():
            if col not in other["cells"]:
                continue
            va, vb = cell["value"], other["cells"][col]["value"]
            lines.append([row["name"], col, format_value(va, row["unit"]),
                          format_value(vb, row["unit"]), f"{(vb / va - 1) * 100:+.1f}%"])
    only = sorted(set(rows_b) - {row["name"] for row in a["rows"]})
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + lines]
    for key, get in (("CPU", lambda m: m["cpu"]["model"]), ("BLAS", lambda m: m.get("blas")),
                     ("BLAS spin", lambda m: m.get("blas_spin")),
                     ("malloc", lambda m: m.get("malloc")),
                     ("CPU kernels", lambda m: m.get("cpu_kernels")),
                     ("versions", lambda m: m["versions"])):
        if get(a["machine"]) != get(b["machine"]):
            out.append(f"note: {key} differs: {get(a['machine'])} -> {get(b['machine'])}")
    if only:
        out.append(f"only in {label_b}: {', '.join(only)}")
    return "\n".join(out)
