"""The speed and memory targets of dlx's NumPy path, evaluated on one run's rows.

Every target is a ratio taken inside one run (same machine, same minute), so it survives a
noisy machine better than absolute times do. ``ok`` is None when a figure is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


def _cell(result: dict, name: str, column: str) -> float | None:
    for row in result["rows"]:
        if row["name"] == name:
            cell = row["cells"].get(column)
            return cell["value"] if cell else None
    return None


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measure: Callable[[dict], tuple[float | None, bool | None, str]]


def _speed_vs_torch(row: str, limit: float, faster: bool) -> Callable:
    """dlx NumPy time / PyTorch time; ``faster``: the goal is torch/dlx >= limit."""
    def measure(result):
        mine, theirs = _cell(result, row, "numpy"), _cell(result, row, "torch")
        if mine is None or theirs is None:
            return None, None, "not measured"
        if faster:
            speedup = theirs / mine
            return speedup, speedup >= limit, (f"dlx {mine * 1e3:.2f} ms vs PyTorch "
                                               f"{theirs * 1e3:.2f} ms: {speedup:.2f}x faster")
        ratio = mine / theirs
        return ratio, ratio <= limit, (f"dlx {mine * 1e3:.2f} ms vs PyTorch "
                                       f"{theirs * 1e3:.2f} ms: {ratio:.2f}x PyTorch's time")
    return measure


def _conv_vs_gemm(result):
    rows = {r["name"]: r for r in result["rows"]}
    conv, gemm = rows.get(CONV_ROW), rows.get(GEMM_ROW)
    t_conv, t_gemm = _cell(result, CONV_ROW, "numpy"), _cell(result, GEMM_ROW, "numpy")
    if t_conv is None or t_gemm is None:
        return None, None, "not measured"
    g_conv, g_gemm = conv["flops"] / t_conv / 1e9, gemm["flops"] / t_gemm / 1e9
    frac = g_conv / g_gemm
    return frac, frac >= 0.4, (f"conv {g_conv:.1f} GFLOP/s vs GEMM {g_gemm:.1f} GFLOP/s: "
                               f"{frac * 100:.0f}%")


def _memory_vs_torch(result):
    mine, theirs = _cell(result, MEMORY_ROW, "numpy"), _cell(result, MEMORY_ROW, "torch")
    if mine is None or theirs is None:
        return None, None, "not measured"
    ratio = mine / theirs
    return ratio, ratio <= 1.3, (f"dlx {mine / 2 ** 20:.1f} MiB vs PyTorch "
                                 f"{theirs / 2 ** 20:.1f} MiB: {ratio:.2f}x")


def _overhead(result):
    gross, raw = _cell(result, OVERHEAD_ROW, "numpy"), _cell(result, RAW_ROW, "numpy")
    if gross is None:
        return None, None, "not measured"
    net = gross - raw if raw is not None else gross
    detail = f"{net * 1e6:.1f} us/op above the raw array calls ({gross * 1e6:.1f} us/op in all)"
    return net, net < 20e-6, detail


CONV_ROW = "conv fwd+bwd 64x16x32x32->32 k3"
GEMM_ROW = "gemm 1024x1024 f32"
MEMORY_ROW = "peak host memory: adam step lenet5 b256"
OVERHEAD_ROW = "overhead/op fwd+bwd 33x dense16 b1"
RAW_ROW = "overhead/op raw arrays 33x dense16 b1"

TARGETS = [
    Target("small MLP Adam step b64", ">= 2x faster than PyTorch",
           _speed_vs_torch("adam step mlp-64-128-64-10 b64", 2.0, faster=True)),
    Target("MLP 784-256-128-10 Adam step b128", "no slower than PyTorch (<= 1.0x)",
           _speed_vs_torch("adam step mlp-784-256-128-10 b128", 1.0, faster=False)),
    Target("LeNet-5 Adam step b64", "<= 1.5x PyTorch's time",
           _speed_vs_torch("adam step lenet5 b64", 1.5, faster=False)),
    Target("LeNet-5 Adam step b256", "<= 2x PyTorch's time",
           _speed_vs_torch("adam step lenet5 b256", 2.0, faster=False)),
    Target("conv 64x16x32x32->32 3x3 fwd+bwd", ">= 40% of NumPy GEMM GFLOP/s", _conv_vs_gemm),
    Target("peak host memory LeNet-5 step b256", "<= 1.3x PyTorch's", _memory_vs_torch),
    Target("autodiff overhead per op", "< 20 us/op (deep narrow model, batch 1)", _overhead),
    Target("LSTM layer m64 T50 128->128 fwd+bwd", "<= 1.5x PyTorch's time",
           _speed_vs_torch("lstm layer fwd+bwd m64 T50 128->128", 1.5, faster=False)),
]


def evaluate(result: dict) -> list[dict]:
    """[{name, goal, value, ok, detail}] for every target."""
    out = []
    for t in TARGETS:
        value, ok, detail = t.measure(result)
        out.append({"name": t.name, "goal": t.goal, "value": value, "ok": ok,
                    "detail": detail})
    return out
