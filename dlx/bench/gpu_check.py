"""``python -m dlx.bench --gpu-check``: what a lent GPU must show, in one run of a few minutes.

With a working CuPy GPU it runs, in order:

1. the GPU parity suite (``pytest tests/kernels/test_gpu.py`` with the cupy backend
   required), when the tests are present (a source checkout);
2. every kernel row of the cost model (:mod:`dlx.bench.cost_model`) timed with CUDA events
   (median of 50 after 5 warm-up calls), next to its bytes, FLOPs and ideal time: achieved
   GB/s and the fraction of the device's peak bandwidth;
3. host synchronisations per training step (LeNet-5 b64, ResNet b32): a kernel that spins
   for ~0.2 s is queued first, then one Adam step is issued; if the host gets back before the
   spin ends, the step never waited for the device (0 synchronisations), else it did;
4. one LeNet-5 and one ResNet Adam step, dlx against PyTorch on the same GPU when PyTorch
   has CUDA.

Without a GPU it says why, prints the cost model at the named devices' peaks (the numbers a
GPU run must reach) and exits 0. Either way it writes ``gpu-check.json`` and
``gpu-check.txt`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dlx import backends
from dlx.bench import cost_model

#: the spin of the synchronisation probe, seconds
PROBE_SECONDS = 0.2
_SPIN = r"""
extern "C" __global__ void dlx_spin(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {}
}
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlx.bench --gpu-check",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="dlx-gpu-check", help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ok, why = backends.cupy_status()
    report: dict = {"schema": "dlx-gpu-check/1", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if not ok:
        report.update(gpu=None, reason=why, cost_model=cost_model.section(
            {"columns": ["numpy"], "absent": {"cupy": why}, "rows": []}))
        text = (f"GPU check: no GPU here ({why}).\nNothing was measured; the cost model below "
                "gives the ideal times a GPU run must approach.\n\n"
                + cost_model.render_section(report["cost_model"]))
    else:
        report.update(_gpu_report())
        text = _gpu_text(report)
    (out / "gpu-check.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / "gpu-check.txt").write_text(text + "\n")
    print(text)
    print(f"\nwrote {out / 'gpu-check.json'} and {out / 'gpu-check.txt'}")
    return 0


# -- with a GPU --------------------------------------------------------------------------------
def _gpu_report() -> dict:
    gpu = backends.get("cupy")
    cp = gpu.xp
    bandwidth, source = cost_model.device_peak_bandwidth(cp)
    report = {"gpu": gpu.describe(), "peak_bandwidth": bandwidth, "peak_source": source,
              "errors": {}}
    report["parity"] = _stage(report, "parity", _parity_suite, {"ran": False})
    measured = {}
    with backends.use(gpu):
        for row, build in cost_model.KERNEL_ROWS.items():
            seconds = _stage(report, row, lambda: _event_time(cp, build(gpu)), None)
            if seconds is not None:
                measured[row] = {"seconds": seconds, "peak_bandwidth": bandwidth,
                                 "device": report["gpu"]["device"]}
        models = (("lenet5", 64), ("resnet", 32))
        report["syncs_per_step"] = {
            f"{k} b{b}": _stage(report, f"syncs {k}", lambda: _syncs_per_step(gpu, k, b), {})
            for k, b in models}
        report["steps"] = {f"{k} b{b}": _stage(report, f"step {k}",
                                               lambda: _step_vs_torch(gpu, k, b), {})
                           for k, b in models}
    report["cost_model"] = {"device": report["gpu"]["device"],
                            "launches": cost_model.cost_rows(limits=gpu.device_limits()),
                            "measured": measured}
    return report


def _stage(report: dict, name: str, fn, default):
    """``fn()``, or ``default`` with the error recorded: one failing stage keeps the rest."""
    try:
        return fn()
    except Exception as exc:  # reported in the JSON and the table, never hidden
        report["errors"][name] = f"{type(exc).__name__}: {exc}"
        return default


def _parity_suite() -> dict:
    tests = Path(__file__).resolve().parents[2] / "tests" / "kernels" / "test_gpu.py"
    if not tests.is_file():
        return {"ran": False, "why": f"{tests} not found (not a source checkout)"}
    env = dict(os.environ, DLX_REQUIRE_BACKENDS="cupy")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tests)], capture_output=True, text=True, env=env, timeout=240)
    lines = proc.stdout.strip().splitlines()
    return {"ran": True, "returncode": proc.returncode, "summary": lines[-1] if lines else ""}


def _event_time(cp, fn, warmup: int = 5, repeats: int = 50) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop) / 1e3)
    return statistics.median(times)


def _syncs_per_step(gpu, key: str, batch: int) -> dict:
    from dlx.bench.cases import dlx_adam_step

    cp = gpu.xp
    step = dlx_adam_step(key, batch)()
    step()
    spin = cp.RawKernel(_SPIN, "dlx_spin")
    calibration = int(2e7)
    seconds = _event_time(cp, lambda: spin((1,), (1,), (cp.int64(calibration),)), 1, 3)
    cycles = int(calibration * PROBE_SECONDS / seconds)
    gpu.synchronize()
    spin((1,), (1,), (cp.int64(cycles),))
    t0 = time.perf_counter()
    step()
    host = time.perf_counter() - t0
    gpu.synchronize()
    waited = host >= 0.9 * PROBE_SECONDS
    return {"host_seconds": host, "probe_seconds": PROBE_SECONDS,
            "host_synchronisations": ">= 1" if waited else 0}


def _step_vs_torch(gpu, key: str, batch: int) -> dict:
    from dlx.bench.cases import dlx_adam_step

    cp = gpu.xp
    result = {"dlx_seconds": _event_time(cp, dlx_adam_step(key, batch)(), 3, 20)}
    try:
        import torch
    except ImportError as exc:
        result["torch"] = f"not installed ({exc})"
        return result
    if not torch.cuda.is_available():
        result["torch"] = "PyTorch has no CUDA here (CPU build)"
        return result
    from dlx.bench import cases as C
    from dlx.bench.torch_ref import build_torch_model

    model = build_torch_model(key).cuda().train()
    x_host, y_host = C.model_batch(key, batch)
    x, y = torch.from_numpy(x_host).cuda(), torch.from_numpy(y_host).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    result["torch_seconds"] = _event_time(cp, step, 3, 20)
    result["ratio"] = result["dlx_seconds"] / result["torch_seconds"]
    return result


def _gpu_text(report: dict) -> str:
    peak = report["peak_bandwidth"]
    lines = [f"GPU check on {report['gpu']['device']} (peak DRAM bandwidth "
             f"{peak / 1e9:.0f} GB/s: {report['peak_source']})" if peak else
             f"GPU check on {report['gpu']['device']} (peak bandwidth {report['peak_source']})"]
    parity = report["parity"]
    lines.append(f"parity suite: {parity.get('summary') or parity.get('why') or 'not run'}")
    for name, s in report["syncs_per_step"].items():
        if s:
            lines.append(f"host synchronisations per {name} step: {s['host_synchronisations']} "
                         f"(host {s['host_seconds'] * 1e3:.1f} ms under a "
                         f"{PROBE_SECONDS * 1e3:.0f} ms device spin)")
    for name, s in report["steps"].items():
        if s:
            torch_part = (f", PyTorch {s['torch_seconds'] * 1e3:.2f} ms, ratio {s['ratio']:.2f}"
                          if "torch_seconds" in s else f", PyTorch: {s['torch']}")
            lines.append(f"Adam step {name}: dlx {s['dlx_seconds'] * 1e3:.2f} ms{torch_part}")
    lines += [f"ERROR in {stage}: {why}" for stage, why in report["errors"].items()]
    return "\n".join(lines) + "\n\n" + cost_model.render_section(report["cost_model"])
