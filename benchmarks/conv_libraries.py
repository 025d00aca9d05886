"""The conv row through compiled libraries that could serve the NumPy backend, on one thread.

    python benchmarks/conv_libraries.py [--repeat 15] [--threads 1]

The issue's shape (N=64, C=16, 32x32, K=32, 3x3, padding 1, float32). Columns, where the
package is installed (none of them is a dlx dependency):

* dlx -- the NumPy backend's Conv2d forward and backward (``dlx.functional.conv2d``);
* onnxruntime -- MLAS through one-node ONNX graphs (needs ``onnx`` to build them): ``Conv``
  forward, ``ConvTranspose`` for dx, and dW as a ``Conv`` of x^T (C, N, H, W) with dZ^T
  (K, N, OH, OW) as the kernel;
* torch -- PyTorch's CPU convolution (oneDNN), forward and ``backward``;
* GEMMs alone -- the three products of the column path at full batch width (forward
  32x144 @ 144xL, dx 16x288 @ 288xL, dW 288xL @ Lx16, L = 64*34*32 phase-row columns)
  through NumPy's OpenBLAS and through BLIS (the ``blis`` package's ``gemm``).

Medians of ``--repeat`` calls after a warm-up, in ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import os

from conv_numpy import median_ms  # this directory's script: benchmarks/ is on sys.path

N, C, H, K, F, P = 64, 16, 32, 32, 3, 1


def dlx_parts(x, w, gz):
    import dlx
    from dlx.functional import conv2d

    xt, wt = dlx.Tensor(x, requires_grad=True), dlx.Parameter(w)

    def forward():
        with dlx.no_grad():
            conv2d(xt, wt, padding=P)

    def both():
        xt.grad = wt.grad = None
        conv2d(xt, wt, padding=P).backward(gz)
    return {"forward": forward, "fwd+bwd": both}


def onnx_session(op, inputs, output_shape, threads, **attrs):
    import onnxruntime as ort
    from onnx import TensorProto, helper

    names = [f"in{i}" for i in range(len(inputs))]
    graph = helper.make_graph(
        [helper.make_node(op, names, ["out"], **attrs)], op,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape)
         for n, a in zip(names, inputs)],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, output_shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10  # what onnxruntime 1.2x reads
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    feed = dict(zip(names, inputs))
    return lambda: session.run(None, feed)


def onnxruntime_parts(x, w, gz, threads):
    import numpy as np

    pads = [P] * 4
    fwd = onnx_session("Conv", [x, w], gz.shape, threads, pads=pads)
    dx = onnx_session("ConvTranspose", [gz, w], x.shape, threads, pads=pads)
    x_t = np.ascontiguousarray(x.transpose(1, 0, 2, 3))
    gz_t = np.ascontiguousarray(gz.transpose(1, 0, 2, 3))
    dw = onnx_session("Conv", [x_t, gz_t], (C, K, F, F), threads, pads=pads)
    return {"forward": fwd, "fwd+bwd": lambda: (fwd(), dx(), dw())}


def torch_parts(x, w, gz, threads):
    import torch

    torch.set_num_threads(threads)
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    gzt = torch.from_numpy(gz)

    def forward():
        with torch.no_grad():
            torch.nn.functional.conv2d(xt, wt, padding=P)

    def both():
        xt.grad = wt.grad = None
        torch.nn.functional.conv2d(xt, wt, padding=P).backward(gzt)
    return {"forward": forward, "fwd+bwd": both}


def gemm_parts(rng):
    """The three column-path GEMMs, through OpenBLAS and (if installed) BLIS."""
    import numpy as np

    width = N * (H + 2 * P) * H
    shapes = {"GEMM fwd": (K, C * F * F, width), "GEMM dx": (C, K * F * F, width),
              "GEMM dW": (K * F * F, width, C)}
    parts = {}
    for name, (m, k, n) in shapes.items():
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        parts.setdefault("numpy (OpenBLAS)", {})[name] = lambda a=a, b=b: a @ b
        if importlib.util.find_spec("blis"):
            from blis.py import gemm

            out = np.empty((m, n), np.float32)
            parts.setdefault("BLIS", {})[name] = \
                lambda a=a, b=b, out=out: gemm(a, b, out=out, beta=0.0)
    return parts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))
    import numpy as np  # after the thread variables: OpenBLAS and BLIS read them on load

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, H), dtype=np.float32)
    w = (0.1 * rng.standard_normal((K, C, F, F))).astype(np.float32)
    gz = rng.standard_normal((N, K, H, H), dtype=np.float32)
    columns = {"dlx": dlx_parts(x, w, gz)}
    for package, build in (("onnxruntime", onnxruntime_parts), ("torch", torch_parts)):
        if importlib.util.find_spec(package) and (package != "onnxruntime"
                                                  or importlib.util.find_spec("onnx")):
            columns[package] = build(x, w, gz, args.threads)
        else:
            print(f"{package}: not installed (pip install {package}"
                  f"{' onnx' if package == 'onnxruntime' else ''})")
    columns.update(gemm_parts(rng))
    print(f"conv {N}x{C}x{H}x{H} -> {K}, {F}x{F}, padding {P}, float32, {args.threads} "
          f"thread(s), median of {args.repeat} (ms)")
    for column, parts in columns.items():
        cells = ", ".join(f"{part} {median_ms(fn, args.repeat):.2f}" for part, fn in parts.items())
        print(f"  {column:18s} {cells}")


if __name__ == "__main__":
    main()
