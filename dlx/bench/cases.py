"""The benchmark cases: one definition per table row, shared by ``dlx bench`` and the
pytest-benchmark suite in ``benchmarks/``.

A :class:`Case` builds a zero-argument callable (one timed call) for dlx on the active
backend and, when PyTorch has an equivalent, for PyTorch on the CPU (see
:mod:`dlx.bench.torch_ref`). Inputs come from a seeded host generator, so every column
computes on the same numbers. Builders raise :class:`Unavailable` with a reason when a piece
they need is missing; the table shows the reason instead of a number.

Shapes (batch-first, NCHW):

* GEMM reference: (1024, 1024) @ (1024, 1024) float32, 2 * 1024^3 flops.
* conv: x (64, 16, 32, 32), W (32, 16, 3, 3), stride 1, padding 1; the forward is a GEMM of
  2 * N*OH*OW * C_out * C_in*9 flops and the backward two more of the same size (dX, dW).
* dense: x (256, 784), W (256, 784); forward 2*m*n_in*n_out flops, backward twice that.
* models: one Adam training step (zero grads, forward, softmax cross-entropy, backward,
  update) on a fixed batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from dlx import backends

CONV_X = (64, 16, 32, 32)
CONV_W = (32, 16, 3, 3)
DENSE_X = (256, 784)
DENSE_OUT = 256
POOL_X = (64, 16, 32, 32)
SOFTMAX_Z = (1024, 100)
GEMM_N = 1024
DEEP_NARROW = {"depth": 32, "width": 16, "classes": 10}


class Unavailable(Exception):
    """A case cannot run in this column; the message says why."""


@dataclass(frozen=True)
class Case:
    """One table row.

    ``dlx()`` is called with the target backend active and returns the timed callable;
    ``torch()`` does the same for PyTorch (None: no PyTorch column for this row).
    ``flops``: floating-point operations of one call (GFLOP/s is shown when set).
    ``ops``: autodiff ops recorded by one call (the row is then reported per op).
    ``memory``: also measure the peak host memory of one call (fresh process).
    """

    name: str
    group: str
    dlx: Callable[[], Callable[[], object]]
    torch: Callable[[], Callable[[], object]] | None = None
    flops: float | None = None
    ops: Callable[[], int] | None = None
    memory: bool = False
    tags: dict = field(default_factory=dict)


# -- host inputs (same numbers for every column) -------------------------------------------
def host_normal(shape, seed: int):
    """Standard-normal float32 host array from a seeded generator."""
    return backends.get("numpy").xp.random.default_rng(seed).standard_normal(
        shape, dtype="float32")


def host_labels(m: int, k: int, seed: int):
    """(m,) int64 host labels in [0, k)."""
    return backends.get("numpy").xp.random.default_rng(seed).integers(0, k, size=m)


def _dev(host):
    return backends.current().asarray(host)


def _functional(name: str):
    from dlx import functional as F

    fn = getattr(F, name, None)
    if fn is None:
        raise Unavailable(f"dlx.functional.{name} is not available in this build")
    return fn


# -- references and primitives ---------------------------------------------------------------
def _gemm():
    xp = backends.current().xp
    a, b = _dev(host_normal((GEMM_N, GEMM_N), 1)), _dev(host_normal((GEMM_N, GEMM_N), 2))
    out = xp.empty_like(a)
    return lambda: xp.matmul(a, b, out=out)


def _im2col():
    be = backends.current()
    x = _dev(host_normal(CONV_X, 3))
    return lambda: be.im2col(x, (3, 3), (1, 1), (1, 1))


def _col2im():
    be = backends.current()
    n, c, h, w = CONV_X
    cols = _dev(host_normal((c * 9, n * h * w), 4))
    return lambda: be.col2im(cols, CONV_X, (3, 3), (1, 1), (1, 1))


def _conv_inputs(requires_grad: bool):
    from dlx.core import Parameter, Tensor

    x = Tensor(_dev(host_normal(CONV_X, 5)), requires_grad=requires_grad)
    w = Parameter(_dev(host_normal(CONV_W, 6) * 0.1))
    b = Parameter(_dev(host_normal((CONV_W[0],), 7)))
    return x, w, b


def _conv_fwd():
    conv2d = _functional("conv2d")
    from dlx.core import no_grad

    x, w, b = _conv_inputs(False)

    def run():
        with no_grad():
            return conv2d(x, w, b, stride=1, padding=1)
    return run


def _conv_fwd_bwd():
    conv2d = _functional("conv2d")
    x, w, b = _conv_inputs(True)
    n, _, h, wd = CONV_X
    gy = _dev(host_normal((n, CONV_W[0], h, wd), 8))

    def run():
        x.grad = w.grad = b.grad = None
        conv2d(x, w, b, stride=1, padding=1).backward(gy)
    return run


def _maxpool_fwd_bwd():
    be = backends.current()
    x = _dev(host_normal(POOL_X, 9))

    def run():
        y, argmax = be.maxpool_fwd(x, (2, 2), (2, 2), (0, 0))
        return be.maxpool_bwd(y, argmax, x.shape, (2, 2), (2, 2), (0, 0))
    return run


def _softmax_ce_fwd_bwd():
    from dlx import functional as F
    from dlx.core import Tensor

    z = Tensor(_dev(host_normal(SOFTMAX_Z, 10)), requires_grad=True)
    t = _dev(host_labels(SOFTMAX_Z[0], SOFTMAX_Z[1], 11))

    def run():
        z.grad = None
        F.softmax_cross_entropy(z, t).backward()
    return run


def _dense_fwd_bwd():
    from dlx import functional as F
    from dlx.core import Parameter, Tensor

    x = Tensor(_dev(host_normal(DENSE_X, 12)), requires_grad=True)
    w = Parameter(_dev(host_normal((DENSE_OUT, DENSE_X[1]), 13) * 0.05))
    b = Parameter(_dev(host_normal((DENSE_OUT,), 14)))
    gy = _dev(host_normal((DENSE_X[0], DENSE_OUT), 15))

    def run():
        x.grad = w.grad = b.grad = None
        F.linear(x, w, b).backward(gy)
    return run


# -- models: one Adam step ---------------------------------------------------------------------
MODELS = {
    # name: (zoo name or None for a plain MLP, input shape without batch, classes, sizes)
    "mlp-64-128-64-10": (None, (64,), 10, (128, 64)),
    "mlp-784-256-128-10": (None, (784,), 10, (256, 128)),
    "lenet5": ("lenet5", (1, 28, 28), 10, ()),
    "resnet": ("resnet", (3, 32, 32), 10, ()),
}


def build_dlx_model(key: str):
    """The dlx model for ``MODELS[key]`` on the active backend (seeded): MLPs as a
    Sequential of ReLU Dense layers, the rest from the model zoo."""
    zoo_name, shape, classes, hidden = MODELS[key]
    backends.current().seed(0)
    if zoo_name is None:
        from dlx.nn import Dense, Sequential

        sizes = (shape[0], *hidden)
        layers = [Dense(a, b, "relu") for a, b in zip(sizes, sizes[1:])]
        return Sequential(*layers, Dense(sizes[-1], classes))
    try:
        from dlx.models import build_model
    except ImportError:
        raise Unavailable("dlx.models.build_model is not available in this build") from None
    return build_model(zoo_name, shape, classes)


def model_batch(key: str, batch: int):
    """(x, y) host arrays for one batch of ``MODELS[key]``."""
    _, shape, classes, _ = MODELS[key]
    return host_normal((batch, *shape), 20), host_labels(batch, classes, 21)


def dlx_adam_step(key: str, batch: int):
    """Builder of one Adam training step of ``MODELS[key]`` at ``batch``."""
    def build():
        from dlx import functional as F
        from dlx.core import Tensor
        from dlx.optim import Adam

        model = build_dlx_model(key)
        model.train()
        x_host, y_host = model_batch(key, batch)
        x, y = Tensor(_dev(x_host)), _dev(y_host)
        opt = Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            F.softmax_cross_entropy(model(x), y).backward()
            opt.step()
        return step
    return build


# -- framework overhead: a deep, narrow model at batch 1 --------------------------------------
def _deep_narrow():
    from dlx.nn import Dense, Sequential

    d, w, k = DEEP_NARROW["depth"], DEEP_NARROW["width"], DEEP_NARROW["classes"]
    backends.current().seed(0)
    return Sequential(*[Dense(w, w, "relu") for _ in range(d)], Dense(w, k))


def deep_narrow_batch():
    """(x, y) host arrays: one sample of the deep narrow model."""
    return (host_normal((1, DEEP_NARROW["width"]), 30),
            host_labels(1, DEEP_NARROW["classes"], 31))


def _overhead_dlx():
    from dlx import functional as F
    from dlx.core import Tensor

    model = _deep_narrow()
    params = model.parameters()
    x_host, y_host = deep_narrow_batch()
    x, y = Tensor(_dev(x_host)), _dev(y_host)

    def run():
        for p in params:  # what an optimiser's zero_grad does; no module-tree walk
            p.grad = None
        F.softmax_cross_entropy(model(x), y).backward()
    return run


def count_graph_ops(out) -> int:
    """Number of distinct Functions recorded in the graph that produced ``out``."""
    seen, stack = set(), [out.creator] if out.creator is not None else []
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.extend(edge[0] for edge in fn.edges if isinstance(edge, tuple))
    return len(seen)


def deep_narrow_ops() -> int:
    """Autodiff ops in one forward pass + loss of the deep narrow model."""
    from dlx import functional as F
    from dlx.core import Tensor

    with backends.use("numpy"):
        model = _deep_narrow()
        x_host, y_host = deep_narrow_batch()
        loss = F.softmax_cross_entropy(model(Tensor(x_host)), y_host)
        return count_graph_ops(loss)


def _overhead_raw():
    """The same forward + backward written directly with array calls (no autodiff): the
    arithmetic floor the per-op overhead is measured above."""
    be = backends.current()
    xp = be.xp
    model = _deep_narrow()
    layers = [(layer.W.data, layer.b.data) for layer in model.layers]
    x_host, y_host = deep_narrow_batch()
    x, t = _dev(x_host), _dev(y_host)

    def run():
        acts, masks = [x], []
        a = x
        for w, b in layers[:-1]:
            z = a @ w.T
            z += b
            mask = z > 0
            a = z * mask
            acts.append(a)
            masks.append(mask)
        w, b = layers[-1]
        z = a @ w.T
        z += b
        _, probs, scale = be.softmax_ce_fwd(z, t)
        g = be.softmax_ce_bwd(probs, t, scale, xp.ones((), z.dtype))
        grads = []
        for i in range(len(layers) - 1, -1, -1):
            if i < len(layers) - 1:
                g = g * masks[i]
            grads.append((g.T @ acts[i], g.sum(axis=0)))
            if i:
                g = g @ layers[i][0]
        return grads
    return run


# -- the registry ------------------------------------------------------------------------------
def _conv_flops(passes: int) -> float:
    n, c, h, w = CONV_X
    return 2.0 * n * h * w * CONV_W[0] * c * 9 * passes


def all_cases() -> list[Case]:
    """Every case, in table order."""
    from dlx.bench import torch_ref as T

    n, c, h, w = CONV_X
    dense_flops = 2.0 * DENSE_X[0] * DENSE_X[1] * DENSE_OUT
    cases = [
        Case("gemm 1024x1024 f32", "reference", _gemm, T.gemm, 2.0 * GEMM_N ** 3),
        Case("im2col 64x16x32x32 k3 p1", "primitive", _im2col, T.im2col),
        Case("col2im 64x16x32x32 k3 p1", "primitive", _col2im, T.col2im),
        Case("conv fwd 64x16x32x32->32 k3", "primitive", _conv_fwd, T.conv_fwd,
             _conv_flops(1)),
        Case("conv fwd+bwd 64x16x32x32->32 k3", "primitive", _conv_fwd_bwd, T.conv_fwd_bwd,
             _conv_flops(3)),
        Case("maxpool 2x2 fwd+bwd 64x16x32x32", "primitive", _maxpool_fwd_bwd,
             T.maxpool_fwd_bwd),
        Case("softmax CE fwd+bwd 1024x100", "primitive", _softmax_ce_fwd_bwd,
             T.softmax_ce_fwd_bwd),
        Case("dense fwd+bwd 256x784->256", "primitive", _dense_fwd_bwd, T.dense_fwd_bwd,
             3 * dense_flops),
    ]
    for key, batch in (("mlp-64-128-64-10", 64), ("mlp-64-128-64-10", 256),
                       ("mlp-784-256-128-10", 128), ("lenet5", 64), ("lenet5", 256),
                       ("resnet", 32)):
        cases.append(Case(f"adam step {key} b{batch}", "model", dlx_adam_step(key, batch),
                          T.adam_step(key, batch), memory=True,
                          tags={"model": key, "batch": batch}))
    d = DEEP_NARROW
    label = f"{d['depth'] + 1}x dense{d['width']} b1"
    cases += [
        Case(f"overhead/op fwd+bwd {label}", "overhead", _overhead_dlx, T.overhead,
             ops=deep_narrow_ops),
        Case(f"overhead/op raw arrays {label}", "overhead", _overhead_raw, None,
             ops=deep_narrow_ops),
    ]
    from dlx.bench import rnn_cases

    cases += rnn_cases.cases()
    return cases


def find(name: str) -> Case:
    for case in all_cases():
        if case.name == name:
            return case
    raise KeyError(f"no benchmark case named {name!r}")
