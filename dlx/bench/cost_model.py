"""The cost model of the CUDA kernels: bytes, FLOPs and the ideal time of every launch.

For each kernel row, the launches are the ones dlx really makes: the row runs on a
*planning* backend (the kernel backend's launch code with every kernel replaced by a
recorder, nothing computed), so kernel names, grids and argument arrays are exact. Per launch:

* bytes = the arrays the kernel must read once plus those it must write once (the minimum
  traffic to DRAM; a kernel that re-reads through the cache is charged once);
* FLOPs = the arithmetic of the algorithm (add, multiply, compare and exp count one each;
  the compensation terms of softmax_ce's exp are not counted);
* ideal time = max(bytes / peak bandwidth, FLOPs / peak FP32 or FP64 rate) -- no launch
  latency, no tail effects: the number a kernel can approach, never beat.

Peaks of the named devices (:data:`PEAKS`) are NVIDIA's datasheet figures. On a GPU the
measured time gives the achieved GB/s and its fraction of the device's own peak
(2 x memory clock x bus width, from the device attributes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from dlx.backends import launch_config as lc
from dlx.backends.kernel_backend import KernelBackend
from dlx.backends.numpy_backend import NumpyBackend


@dataclass(frozen=True)
class Peak:
    """A device's datasheet peaks: bytes/s of DRAM and FLOP/s (non-tensor-core)."""

    name: str
    bandwidth: float
    fp32: float
    fp64: float
    source: str


PEAKS = {
    "H100": Peak("NVIDIA H100 SXM5", 3.35e12, 67e12, 34e12,
                 "NVIDIA H100 Tensor Core GPU datasheet (SXM5: 3.35 TB/s HBM3, "
                 "FP32 67 TFLOPS, FP64 34 TFLOPS)"),
    "H200": Peak("NVIDIA H200 SXM", 4.8e12, 67e12, 34e12,
                 "NVIDIA H200 Tensor Core GPU datasheet (SXM: 4.8 TB/s HBM3e, "
                 "FP32 67 TFLOPS, FP64 34 TFLOPS)"),
}


@dataclass(frozen=True)
class Launch:
    kernel: str
    grid: int
    block: int
    bytes_read: int
    bytes_written: int
    flops: float

    @property
    def bytes(self) -> int:
        return self.bytes_read + self.bytes_written

    def ideal_seconds(self, peak: Peak) -> float:
        rate = peak.fp64 if self.kernel.endswith("_f64") else peak.fp32
        return max(self.bytes / peak.bandwidth, self.flops / rate)


# kernel name prefix -> (argument positions read, positions written, FLOPs from the args)
def _size(a) -> int:
    return int(a.size)


RULES: dict[str, tuple[tuple[int, ...], tuple[int, ...], Callable]] = {
    "im2col": ((0,), (1,), lambda a: 0.0),
    "col2im": ((0,), (1,), lambda a: float(_size(a[0]))),                  # one add per column entry
    "maxpool_fwd": ((0,), (1, 2), lambda a: float(_size(a[1]) * int(a[7]) * int(a[8]))),
    "maxpool_bwd": ((0, 1), (2,), lambda a: 2.0 * _size(a[2]) * int(a[7]) * int(a[8])
                    / max(1, int(a[9]) * int(a[10]))),                   # compare + add per window
    "softmax_ce_rows": ((0, 1, 2), (3, 4, 5, 6), lambda a: 4.0 * float(a[7]) * float(a[8])),
    "softmax_ce_finish": ((0, 1, 2), (2, 3), lambda a: 2.0 * int(a[4]) + 2.0 * int(a[5])),
    "softmax_ce_bwd": ((0, 1, 2, 3, 4), (5,), lambda a: 4.0 * float(a[6]) * float(a[7])),
}


def rule_for(kernel: str):
    """The RULES entry of a kernel entry-point name (longest matching prefix)."""
    matches = [p for p in RULES if kernel.startswith(p)]
    if not matches:
        raise KeyError(f"cost model: no rule for kernel {kernel!r}")
    return RULES[max(matches, key=len)]


class PlanningBackend(KernelBackend, NumpyBackend):
    """The kernel backends' launch code with recorders for kernels: records, computes nothing."""

    name = "plan"

    def __init__(self, limits: lc.DeviceLimits = lc.EMULATED_DEVICE):
        self.limits = limits
        self.launches: list[Launch] = []
        super().__init__(0)

    def device_limits(self) -> lc.DeviceLimits:
        return self.limits

    def _function(self, module: str, name: str):
        def record(grid, block, args):
            read, written, flops = rule_for(name)
            nbytes = lambda idx: sum(int(args[i].nbytes) for i in idx)  # noqa: E731
            self.launches.append(Launch(name, int(grid[0]), int(block[0]), nbytes(read),
                                        nbytes(written), float(flops(args))))
        return record


# -- the kernel rows (names shared with dlx bench's rows where they exist) -------------------
xp = NumpyBackend.xp


def _x(be, shape):
    return be.asarray(xp.zeros(shape, xp.float32))


def _im2col(be):
    x = _x(be, (64, 16, 32, 32))
    return lambda: be.im2col(x, 3, 1, 1)


def _col2im(be):
    cols = _x(be, (16 * 9, 64 * 32 * 32))
    return lambda: be.col2im(cols, (64, 16, 32, 32), 3, 1, 1)


def _maxpool(be):
    x = _x(be, (64, 16, 32, 32))

    def run():
        y, argmax = be.maxpool_fwd(x, 2, 2, 0)
        be.maxpool_bwd(y, argmax, x.shape, 2, 2, 0)
    return run


def _softmax(m, k):
    def build(be):
        z, t = _x(be, (m, k)), be.asarray(xp.zeros(m, xp.int64))
        gloss = be.asarray(xp.ones((), xp.float32))

        def run():
            _, lse, scale = be.softmax_ce_fwd(z, t)
            be.softmax_ce_bwd(z, lse, t, scale, gloss)
        return run
    return build


#: kernel row -> builder(backend) of the zero-argument callable that makes the row's launches
KERNEL_ROWS: dict[str, Callable] = {
    "im2col 64x16x32x32 k3 p1": _im2col,
    "col2im 64x16x32x32 k3 p1": _col2im,
    "maxpool 2x2 fwd+bwd 64x16x32x32": _maxpool,
    "softmax CE fwd+bwd 1024x100": _softmax(1024, 100),
    "softmax CE fwd+bwd 256x1000": _softmax(256, 1000),
    "softmax CE fwd+bwd 256x5000": _softmax(256, 5000),
}


def plan(row: str, limits: lc.DeviceLimits = lc.EMULATED_DEVICE) -> list[Launch]:
    """The launches of kernel row ``row`` on a device with ``limits``."""
    be = PlanningBackend(limits)
    KERNEL_ROWS[row](be)()
    return be.launches


def cost_rows(peaks=("H100", "H200"), limits: lc.DeviceLimits = lc.EMULATED_DEVICE) -> list[dict]:
    """One dict per launch of every kernel row: bytes, FLOPs, ideal µs at each named peak."""
    rows = []
    for row in KERNEL_ROWS:
        for launch in plan(row, limits):
            rows.append({"row": row, "kernel": launch.kernel, "grid": launch.grid,
                         "block": launch.block, "bytes_read": launch.bytes_read,
                         "bytes_written": launch.bytes_written, "flops": launch.flops,
                         "ideal_us": {p: launch.ideal_seconds(PEAKS[p]) * 1e6 for p in peaks}})
    return rows


def row_totals(rows: list[dict]) -> dict[str, dict]:
    """Per kernel row: total bytes, FLOPs and ideal µs (the sum over its launches)."""
    totals: dict[str, dict] = {}
    for r in rows:
        t = totals.setdefault(r["row"], {"bytes": 0, "flops": 0.0, "launches": 0,
                                         "ideal_us": dict.fromkeys(r["ideal_us"], 0.0)})
        t["bytes"] += r["bytes_read"] + r["bytes_written"]
        t["flops"] += r["flops"]
        t["launches"] += 1
        for p, us in r["ideal_us"].items():
            t["ideal_us"][p] += us
    return totals


def render(rows: list[dict], measured: dict[str, dict] | None = None) -> str:
    """The cost-model table; ``measured`` (row -> {"seconds", "peak_bandwidth", "device"})
    adds achieved GB/s and the fraction of the device's peak bandwidth."""
    peaks = list(rows[0]["ideal_us"]) if rows else []
    header = ["kernel row / launch", "grid x block", "read MB", "write MB", "MFLOP"] + \
             [f"ideal us @{p}" for p in peaks]
    lines = []
    totals = row_totals(rows)
    for name, total in totals.items():
        line = [name, f"{total['launches']} launch(es)", "", "",
                f"{total['flops'] / 1e6:.2f}"] + [f"{total['ideal_us'][p]:.2f}" for p in peaks]
        lines.append(line)
        for r in (r for r in rows if r["row"] == name):
            lines.append([f"  {r['kernel']}", f"{r['grid']} x {r['block']}",
                          f"{r['bytes_read'] / 1e6:.3f}", f"{r['bytes_written'] / 1e6:.3f}",
                          f"{r['flops'] / 1e6:.2f}"] + [f"{r['ideal_us'][p]:.2f}" for p in peaks])
    if measured:
        header += ["measured us", "GB/s", "of peak BW"]
        for line in lines:
            m = measured.get(line[0])
            if m:
                gbs = totals[line[0]]["bytes"] / m["seconds"] / 1e9
                fraction = (f"{gbs * 1e9 / m['peak_bandwidth']:.0%}" if m.get("peak_bandwidth")
                            else "n/a")
                line += [f"{m['seconds'] * 1e6:.1f}", f"{gbs:.0f}", fraction]
    widths = [max(len(x[i]) if i < len(x) else 0 for x in [header] + lines)
              for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(x, widths)).rstrip() for x in [header] + lines]
    notes = [f"peak {p}: {PEAKS[p].source}" for p in peaks]
    notes.append("ideal = max(bytes / peak bandwidth, FLOPs / peak rate) per launch, summed; "
                 "bytes = each array read once and written once; no launch latency")
    return "\n".join(out[:1] + ["  ".join("-" * w for w in widths)] + out[1:] + notes)


# -- the section of a dlx bench result --------------------------------------------------------
def device_peak_bandwidth(cupy) -> tuple[float | None, str]:
    """(bytes/s, source) of the current GPU's DRAM: 2 (double data rate) x memory clock x bus
    width from cudaDevAttrMemoryClockRate (kHz) and cudaDevAttrGlobalMemoryBusWidth (bits);
    the datasheet figure of :data:`PEAKS` when the attributes are not available."""
    device = cupy.cuda.Device().id
    try:
        clock_khz = cupy.cuda.runtime.deviceGetAttribute(36, device)
        bus_bits = cupy.cuda.runtime.deviceGetAttribute(37, device)
        if clock_khz > 0 and bus_bits > 0:
            return 2.0 * clock_khz * 1e3 * bus_bits / 8, "2 x memory clock x bus width"
    except Exception:  # attribute removed in this CUDA version: fall back to the name
        pass
    name = cupy.cuda.runtime.getDeviceProperties(device)["name"]
    name = name.decode() if isinstance(name, bytes) else str(name)
    for key, peak in PEAKS.items():
        if key in name:
            return peak.bandwidth, peak.source
    return None, f"unknown for {name}"


def section(result: dict) -> dict:
    """The cost model for a bench result: every kernel row's launches, and where the run had
    a ``cupy`` column, the measured time of the rows it timed against the device's peak."""
    from dlx import backends

    measured, limits, device = {}, lc.EMULATED_DEVICE, None
    if "cupy" in result["columns"] and "cupy" not in result.get("absent", {}):
        gpu = backends.get("cupy")
        limits, device = gpu.device_limits(), gpu.describe()["device"]
        bandwidth, _ = device_peak_bandwidth(gpu.xp)
        for row in result["rows"]:
            cell = row["cells"].get("cupy")
            if row["name"] in KERNEL_ROWS and cell:
                measured[row["name"]] = {"seconds": cell["value"], "peak_bandwidth": bandwidth,
                                         "device": device}
    return {"device": device or f"no GPU: launches planned for {limits.name}",
            "launches": cost_rows(limits=limits), "measured": measured}


def render_section(cost: dict) -> str:
    return (f"Cost model of the CUDA kernels ({cost['device']}):\n"
            + render(cost["launches"], cost.get("measured") or None))
