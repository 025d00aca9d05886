"""Would compiled, GIL-free convolution chunks help the NumPy backend? A numba experiment.

    pip install numba scipy      # not dlx dependencies: this script only
    python benchmarks/numba_chunk.py

One forward chunk of the 64x16x32x32->32 3x3 convolution (3 samples, stride 1, padding 1),
computed two ways: dlx's NumPy phase-row path (``PhaseRowColumns``: columns, GEMM, output
with bias) and one ``numba.njit(nogil=True)`` call doing the same steps (phase buffer,
columns, ``np.dot`` through SciPy's BLAS, output). Each is timed alone and on two threads at
once over separate data; the pair's gain is 2x the 1-thread time over the 2-thread time
(2.0 = perfect). Then the columns alone: the NumPy strided copies against a numba loop that
builds them straight from the unpadded input. BLAS runs on one thread
(``OPENBLAS_NUM_THREADS=1`` is set before NumPy loads).
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np

try:
    import numba
except ImportError:
    raise SystemExit("this experiment needs numba and scipy: pip install numba scipy") from None

from gil_handoff import per_call  # this folder's script

from dlx import backends
from dlx.backends.conv_columns import PhaseRowColumns

N, C, K, H = 3, 16, 32, 32  # one chunk
FH = FW = 3
PAD = 1


@numba.njit(nogil=True, boundscheck=False)
def forward_chunk(x, w_row, bias, z, wq, flat):
    """z (n, K, H, W) = conv(x, W) + b, stride 1, padding PAD, as the phase-row path does."""
    n, c, h, w = x.shape
    oh, ow = z.shape[2], z.shape[3]
    positions = oh * wq
    phases = np.zeros((n, c, flat), x.dtype)
    for ni in range(n):
        for ci in range(c):
            for r in range(h):
                base = (r + PAD) * wq + PAD
                for q in range(w):
                    phases[ni, ci, base + q] = x[ni, ci, r, q]
    cols = np.empty((c * FH * FW, n * positions), x.dtype)
    for ci in range(c):
        for i in range(FH):
            for j in range(FW):
                row, start = (ci * FH + i) * FW + j, i * wq + j
                for ni in range(n):
                    for p in range(positions):
                        cols[row, ni * positions + p] = phases[ni, ci, start + p]
    zc = np.dot(w_row, cols)
    for ni in range(n):
        for k in range(w_row.shape[0]):
            for r in range(oh):
                for q in range(ow):
                    z[ni, k, r, q] = zc[k, ni * positions + r * wq + q] + bias[k]


@numba.njit(nogil=True, boundscheck=False)
def columns_from_input(x, out, oh, ow, wq):
    """out[c, i, j, n, r*wq + q] = xpad[n, c, r + i, q + j] for q < ow, else 0."""
    n, c, h, w = x.shape
    for ci in range(c):
        for i in range(FH):
            for j in range(FW):
                for ni in range(n):
                    for r in range(oh):
                        y = r + i - PAD
                        for q in range(wq):
                            u = q + j - PAD
                            inside = q < ow and 0 <= y < h and 0 <= u < w
                            out[ci, i, j, ni, r * wq + q] = x[ni, ci, y, u] if inside else 0


def pair_gain(work, operands, calls: int = 300) -> tuple[float, float]:
    """(us per call alone, us per call and thread with two threads at once)."""
    def loop(ops, repeat):
        for _ in range(repeat):
            work(ops)
    alone, two = per_call(loop, operands, calls)
    return alone * 1e6, two * 1e6


def main() -> None:
    rng = np.random.default_rng(0)
    layout = PhaseRowColumns(backends.get("numpy"), (N, C, H, H), (FH, FW), (1, 1), (PAD, PAD))

    def operands():
        return (rng.standard_normal((N, C, H, H), dtype=np.float32),
                rng.standard_normal((K, C * FH * FW), dtype=np.float32),
                rng.standard_normal(K, dtype=np.float32), np.empty((N, K, H, H), np.float32))

    def numpy_chunk(ops):
        x, w, b, z = ops
        layout.output(layout.matmul(w, layout.columns(x)), b, z)

    def numba_chunk(ops):
        x, w, b, z = ops
        forward_chunk(x, w, b, z, layout.wq, layout.flat)

    check = operands()
    numpy_chunk(check)
    want = check[3].copy()
    numba_chunk(check)
    print(f"forward chunk, largest difference numba - NumPy: {np.abs(check[3] - want).max()}")
    for name, work in (("NumPy phase-row chunk", numpy_chunk), ("numba chunk", numba_chunk)):
        alone, two = pair_gain(work, [operands(), operands()])
        print(f"  {name:<22} {alone:7.1f} us alone, {two:7.1f} us each on two threads "
              f"(pair x{2 * alone / two:.2f})")
    x = operands()[0]
    out = np.empty((C, FH, FW, N, layout.positions), np.float32)
    columns_from_input(x, out, layout.oh, layout.ow, layout.wq)
    grid = (C, FH, FW, N, layout.oh, layout.wq)
    same = np.array_equal(out.reshape(grid)[..., :layout.ow],
                          layout.columns(x).reshape(grid)[..., :layout.ow])
    print(f"columns alone (same values: {same}):")
    for name, work in (("NumPy strided copies", lambda _: layout.columns(x)),
                       ("numba from the input",
                        lambda _: columns_from_input(x, out, layout.oh, layout.ow, layout.wq))):
        alone, _ = pair_gain(work, [None, None], calls=200)
        print(f"  {name:<22} {alone:7.1f} us")


if __name__ == "__main__":
    main()
