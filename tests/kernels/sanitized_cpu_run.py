"""Run the NumPy backend's compiled CPU kernels (kernels/*.cpp) on their ASan+UBSan build:
convolutions of several geometries and batch norm, forward and backward, on 1 and 2 OpenMP
threads; exit 0 if every output matches the NumPy column code. Started by
test_sanitizers.py in a subprocess with the ASan runtime preloaded; a sanitizer finding
aborts the process with its report on stderr.

usage: python sanitized_cpu_run.py [KERNEL_DIR]
"""

from __future__ import annotations

import os
import sys

import numpy as np

import dlx
import dlx.backends as B
import dlx.functional as F
from dlx.backends import cpu_kernels

CONVS = [((2, 3, 7, 9), 4, (3, 3), (1, 1), (1, 1)), ((3, 5, 8, 8), 7, (3, 3), (2, 2), (1, 1)),
         ((2, 4, 9, 7), 5, (1, 1), (2, 2), (0, 0)), ((2, 3, 6, 6), 2, (2, 3), (1, 2), (0, 2)),
         ((1, 2, 5, 5), 3, (5, 5), (1, 1), (2, 2)), ((2, 3, 10, 11), 6, (3, 2), (3, 2), (1, 0)),
         ((4, 16, 12, 12), 19, (3, 3), (1, 1), (1, 1)), ((2, 2, 3, 3), 2, (3, 3), (1, 1), (4, 4))]


def outputs(x, w, b, gz, stride, padding, gamma, beta):
    xt, wt, bt = dlx.Tensor(x, requires_grad=True), dlx.Parameter(w), dlx.Parameter(b)
    z = F.conv2d(xt, wt, bt, stride, padding)
    gt, bet = dlx.Parameter(gamma), dlx.Parameter(beta)
    y = F.batch_norm(z, gt, bet)
    y.backward(gz)
    return [z.data, y.data, xt.grad, wt.grad, bt.grad, gt.grad, bet.grad]


def main(kernel_dir: str | None) -> None:
    sanitized = cpu_kernels.load(cpu_kernels.build(sanitize=True, directory=kernel_dir))
    cpu_kernels.library = lambda sanitize=False: sanitized
    rng = np.random.default_rng(0)
    backend = B.set_backend("numpy")
    for threads in (1, 2):
        backend.parallel_workers = lambda threads=threads: threads
        for shape, k, kernel, stride, padding in CONVS:
            x = rng.normal(size=shape).astype(np.float32)
            w = rng.normal(size=(k, shape[1], *kernel)).astype(np.float32)
            b, gamma, beta = rng.normal(size=(3, k)).astype(np.float32)
            oh = (shape[2] + 2 * padding[0] - kernel[0]) // stride[0] + 1
            ow = (shape[3] + 2 * padding[1] - kernel[1]) // stride[1] + 1
            gz = rng.normal(size=(shape[0], k, oh, ow)).astype(np.float32)
            os.environ["DLX_CPU_KERNELS"] = "native"
            got = outputs(x, w, b, gz, stride, padding, gamma, beta)
            os.environ["DLX_CPU_KERNELS"] = "numpy"
            want = outputs(x, w, b, gz, stride, padding, gamma, beta)
            for g, r in zip(got, want):
                np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(r).max()))
    print("sanitized run: compiled CPU kernels ok")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
