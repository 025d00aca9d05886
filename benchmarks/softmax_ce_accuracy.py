"""Accuracy of the float32 softmax cross-entropy kernels against float64, and the memory the
forward keeps for the backward (the CUDA kernels, run by the CPU emulation).

    python benchmarks/softmax_ce_accuracy.py [--m 64] [--k 5000]

Logits 3 x N(0, 1) float32 (seed 5). The probabilities are recovered from dz at the
non-label classes (dz = p * scale with scale = 1/m and gloss = 1) and compared with the
float64 softmax of the same logits; lse and the loss likewise.
"""

from __future__ import annotations

import argparse

import numpy as np

from dlx.backends.emulated_backend import EmulatedBackend


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=64)
    parser.add_argument("--k", type=int, default=5000)
    args = parser.parse_args()
    m, k = args.m, args.k
    rng = np.random.default_rng(5)
    z = (3 * rng.standard_normal((m, k))).astype(np.float32)
    t = rng.integers(0, k, m)
    be = EmulatedBackend()
    loss, lse, scale = be.softmax_ce_fwd(z, t)
    dz = be.softmax_ce_bwd(z, lse, t, scale, np.ones((), np.float32))
    z64 = z.astype(np.float64)
    zmax = z64.max(axis=1, keepdims=True)
    lse64 = zmax[:, 0] + np.log(np.exp(z64 - zmax).sum(axis=1))
    p64 = np.exp(z64 - lse64[:, None])
    p = dz.astype(np.float64) / scale.astype(np.float64)[:, None]
    off = np.ones((m, k), bool)
    off[np.arange(m), t] = False
    rel = np.abs(p - p64)[off] / p64[off]
    team = "warp" if k <= be.warp_max_classes else "block"
    print(f"softmax CE float32, m={m}, K={k} ({team} per row), emulated kernels vs float64:")
    print(f"  probabilities: max relative error {rel.max():.2e} (goal <= 1e-6)")
    print(f"  lse:           max relative error {np.max(np.abs(lse / lse64 - 1)):.2e}")
    loss64 = np.mean(lse64 - z64[np.arange(m), t])
    print(f"  loss:          relative error {abs(float(loss) / loss64 - 1):.2e}")
    kept, before = lse.nbytes + scale.nbytes, z.nbytes + scale.nbytes
    print(f"kept for backward: lse + scale = {kept} B per step; an (m, K) probability array "
          f"+ scale was {before} B ({before - kept} B saved)")


if __name__ == "__main__":
    main()
