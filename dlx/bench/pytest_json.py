"""Turn a pytest-benchmark JSON file from ``benchmarks/`` into a dlx bench result.

Each test of the suite stores in ``extra_info``: ``row`` (the case name), ``column``,
``group``, ``flops``, ``ops`` and, for training steps, ``peak_host_bytes`` /
``peak_device_bytes``; the suite's conftest adds dlx's machine description to
``machine_info["dlx"]``. Cells take pytest-benchmark's median.
"""

from __future__ import annotations

import json

from dlx.bench import report, targets


def result_from_pytest(path: str) -> dict:
    with open(path) as fh:
        data = json.load(fh)
    rows: dict[str, dict] = {}
    memory: dict[str, dict] = {}
    columns = []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        if "row" not in info:
            continue
        column = info["column"]
        if column not in columns:
            columns.append(column)
        ops = info.get("ops") or 1
        row = rows.setdefault(info["row"], report.make_row(
            info["row"], info.get("group", "?"), "s/op" if info.get("ops") else "s",
            info.get("flops")))
        stats = bench["stats"]
        row["cells"][column] = {"value": stats["median"] / ops, "q1": stats["q1"] / ops,
                                "q3": stats["q3"] / ops, "best": stats["min"] / ops,
                                "rounds": stats["rounds"]}
        for key, label in (("peak_host_bytes", "host"), ("peak_device_bytes", "device")):
            if info.get(key) is not None:
                name = f"peak {label} memory: {info['row']}"
                memory.setdefault(name, report.make_row(name, "memory", "B"))["cells"][
                    column] = {"value": info[key]}
    order = [c for c in ("numpy", "cupy", "torch") if c in columns]
    machine = data.get("machine_info", {}).get("dlx") or {
        "created": data.get("datetime", "?"), "cpu": {"model": "?", "logical_cores": "?",
                                                    "simd": []},
        "blas": None, "gpu": None, "versions": {}}
    result = {"schema": report.SCHEMA, "mode": "pytest-benchmark",
              "threads": (machine.get("blas") or {}).get("num_threads")
              if isinstance(machine.get("blas"), dict) else None,
              "machine": machine, "columns": order, "absent": {},
              "rows": list(rows.values()) + list(memory.values())}
    result["targets"] = targets.evaluate(result)
    return result
