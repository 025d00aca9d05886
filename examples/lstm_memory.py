"""What the fused LSTM layer keeps for backward, against the same LSTM written op by op.

The fused layer (one Function per layer call) saves the pre-activations Z (T, m, 4 n_a),
the states A and C (T, m, n_a each) and the time-major input (T, m, n_x); backward
recomputes every gate activation and tanh(c<t>) from them. Storing the activations as well
would add (T, m, 4 n_a) + (T, m, n_a). The op-by-op version (matmul, slices, sigmoid, tanh,
products per step, built from dlx.functional) keeps whatever each op needs. Bytes are
counted over every array the recorded graph holds (shared buffers once); times are one
forward+backward, median of 3. m = 64, T = 50, n_x = n_a = 128, float32, NumPy backend.

    python examples/lstm_memory.py
"""

from __future__ import annotations

import time

import dlx
import dlx.backends as B
from dlx import functional as F
from dlx.bench.cases import host_normal
from dlx.nn import LSTM

M, T, N = 64, 50, 128


def graph_bytes(out) -> tuple[int, int]:
    """(number of Functions, bytes of the distinct arrays they hold) behind ``out``."""
    xp = B.current().xp
    seen, buffers, stack = set(), {}, [out.creator]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        for value in vars(fn).values():
            for a in (value if isinstance(value, (tuple, list)) else (value,)):
                if isinstance(a, xp.ndarray):
                    base = a if a.base is None else a.base
                    buffers[id(base)] = base.nbytes
        stack.extend(e[0] for e in fn.edges if isinstance(e, tuple))
    return len(seen), sum(buffers.values())


def op_by_op(layer, x, gy):
    """The same LSTM from elementary differentiable ops; returns the scalar cost."""
    cell = layer.cells[0]
    W_x, W_a, b = cell.weights()
    a = c = dlx.Tensor(B.current().xp.zeros((M, N), dtype="float32"))
    cost = 0
    for t in range(T):
        z = x[:, t] @ W_x.T + a @ W_a.T + b
        f, u = F.sigmoid(z[:, :N]), F.sigmoid(z[:, N:2 * N])
        g, o = F.tanh(z[:, 2 * N:3 * N]), F.sigmoid(z[:, 3 * N:])
        c = f * c + u * g
        a = o * F.tanh(c)
        cost = cost + (a * gy[:, t]).sum()
    return cost


def timed(fn) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[1]


def main() -> None:
    with B.use("numpy"):
        layer = LSTM(N, N)
        x = dlx.Tensor(host_normal((M, T, N), 1), requires_grad=True)
        gy_host = host_normal((M, T, N), 2)
        gy = dlx.Tensor(gy_host)
        fused_out = layer(x).outputs
        fused_ops, fused = graph_bytes(fused_out)
        fused_out.backward(gy_host)
        naive_cost = op_by_op(layer, x, gy)
        naive_ops, naive = graph_bytes(naive_cost)
        naive_cost.backward()
        activations = T * M * 5 * N * 4
        t_fused = timed(lambda: layer(x).outputs.backward(gy_host))
        t_naive = timed(lambda: op_by_op(layer, x, gy).backward())
    mib = 2 ** 20
    print(f"LSTM m={M} T={T} n_x=n_a={N} float32, forward+backward")
    print(f"fused layer : {fused_ops:5d} Function(s), keeps {fused / mib:6.2f} MiB for backward, "
          f"{t_fused * 1e3:7.1f} ms")
    print(f"  + saving the gate activations and tanh(c) instead of recomputing: "
          f"{(fused + activations) / mib:6.2f} MiB")
    print(f"op by op    : {naive_ops:5d} Functions,   keeps {naive / mib:6.2f} MiB for backward, "
          f"{t_naive * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
