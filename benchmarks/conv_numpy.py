"""Conv2D forward+backward on the NumPy backend, next to the NumPy GEMM peak of this machine.

    python benchmarks/conv_numpy.py [--repeat 20] [--dtype float32]

Shape (the issue's): N=64, C=16, H=W=32, K=32, 3x3, stride 1, padding 1. FLOPs counted as
the three GEMMs of im2col convolution: forward 2*K*(C*f*f)*(N*OH*OW), backward twice that
(dW and dcols). The GEMM peak is a 1024x1024 @ 1024x1024 np.matmul in the same dtype.
Times are the median of ``--repeat`` runs after a warm-up; a per-stage breakdown follows.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import dlx
from dlx import backends
from dlx.functional import conv2d


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args()
    dtype = np.dtype(args.dtype)
    n, c, h, w, k, f = 64, 16, 32, 32, 32, 3
    be = backends.set_backend("numpy")
    rng = np.random.default_rng(0)

    a = rng.standard_normal((1024, 1024)).astype(dtype)
    b = rng.standard_normal((1024, 1024)).astype(dtype)
    gemm_ms = median_ms(lambda: np.matmul(a, b), args.repeat)
    gemm_gflops = 2 * 1024 ** 3 / gemm_ms / 1e6

    x = dlx.Tensor(rng.standard_normal((n, c, h, w)).astype(dtype), requires_grad=True)
    wt = dlx.Parameter(rng.standard_normal((k, c, f, f)).astype(dtype) * 0.1)
    bias = dlx.Parameter(np.zeros(k, dtype))
    gz = rng.standard_normal((n, k, h, w)).astype(dtype)

    def step():
        x.grad = wt.grad = bias.grad = None
        conv2d(x, wt, bias, stride=1, padding=1).backward(gz)

    def forward():
        with dlx.no_grad():
            conv2d(x, wt, bias, stride=1, padding=1)

    conv_ms = median_ms(step, args.repeat)
    fwd_ms = median_ms(forward, args.repeat)
    flops = 3 * 2 * k * (c * f * f) * (n * h * w)
    conv_gflops = flops / conv_ms / 1e6

    cols = be.im2col(x.data, (f, f), (1, 1), (1, 1))
    w_row = wt.data.reshape(k, -1)
    gz_row = np.ascontiguousarray(gz.transpose(1, 0, 2, 3).reshape(k, -1))
    dcols = w_row.T @ gz_row
    stages = {
        "im2col": lambda: be.im2col(x.data, (f, f), (1, 1), (1, 1)),
        "GEMM forward  W @ cols": lambda: w_row @ cols,
        "GEMM dW  dZ @ cols.T": lambda: gz_row @ cols.T,
        "GEMM dcols  W.T @ dZ": lambda: w_row.T @ gz_row,
        "col2im": lambda: be.col2im(dcols, (n, c, h, w), (f, f), (1, 1), (1, 1)),
    }

    print(f"dlx {dlx.__version__}, backend {be.describe()}")
    print(f"conv N={n} C={c} {h}x{w} K={k} {f}x{f} stride 1 pad 1, {dtype.name}, "
          f"median of {args.repeat}")
    print(f"  GEMM 1024^3 np.matmul      {gemm_ms:8.2f} ms  {gemm_gflops:7.1f} GFLOP/s")
    print(f"  conv forward (no grad)     {fwd_ms:8.2f} ms")
    print(f"  conv forward+backward      {conv_ms:8.2f} ms  {conv_gflops:7.1f} GFLOP/s  "
          f"= {100 * conv_gflops / gemm_gflops:.0f}% of the GEMM rate")
    for name, fn in stages.items():
        print(f"    {name:26s} {median_ms(fn, args.repeat):8.2f} ms")


if __name__ == "__main__":
    main()
