"""PyTorch (CPU) twins of the benchmark cases: same shapes, same input numbers.

PyTorch is an optional oracle (the ``compare`` extra), never a dependency: every builder
imports it lazily and raises :class:`~dlx.bench.cases.Unavailable` when it is missing.
The thread count is set by the runner (``torch.set_num_threads``) to NumPy's BLAS threads.
"""

from __future__ import annotations

from dlx.bench import cases as C
from dlx.bench.cases import Unavailable


def torch_module():
    """The ``torch`` module, or Unavailable with the reason."""
    try:
        import torch
    except ImportError as exc:
        raise Unavailable(f"PyTorch is not installed ({exc}); pip install 'dlx[compare]'") \
            from None
    return torch


def _t(host):
    return torch_module().from_numpy(host)


def gemm():
    torch = torch_module()
    a, b = _t(C.host_normal((C.GEMM_N, C.GEMM_N), 1)), _t(C.host_normal((C.GEMM_N, C.GEMM_N), 2))
    out = torch.empty_like(a)
    return lambda: torch.mm(a, b, out=out)


def im2col():
    torch = torch_module()
    x = _t(C.host_normal(C.CONV_X, 3))
    return lambda: torch.nn.functional.unfold(x, 3, padding=1)


def col2im():
    torch = torch_module()
    n, c, h, w = C.CONV_X
    cols = _t(C.host_normal((n, c * 9, h * w), 4))
    return lambda: torch.nn.functional.fold(cols, (h, w), 3, padding=1)


def _conv_inputs(requires_grad: bool):
    x = _t(C.host_normal(C.CONV_X, 5)).requires_grad_(requires_grad)
    w = _t(C.host_normal(C.CONV_W, 6) * 0.1).requires_grad_(True)
    b = _t(C.host_normal((C.CONV_W[0],), 7)).requires_grad_(True)
    return x, w, b


def conv_fwd():
    torch = torch_module()
    x, w, b = _conv_inputs(False)

    def run():
        with torch.no_grad():
            return torch.nn.functional.conv2d(x, w, b, padding=1)
    return run


def conv_fwd_bwd():
    torch = torch_module()
    x, w, b = _conv_inputs(True)
    n, _, h, wd = C.CONV_X
    gy = _t(C.host_normal((n, C.CONV_W[0], h, wd), 8))

    def run():
        x.grad = w.grad = b.grad = None
        torch.nn.functional.conv2d(x, w, b, padding=1).backward(gy)
    return run


def maxpool_fwd_bwd():
    torch = torch_module()
    x = _t(C.host_normal(C.POOL_X, 9)).requires_grad_(True)

    def run():
        x.grad = None
        y = torch.nn.functional.max_pool2d(x, 2, 2)
        y.backward(y.detach())
    return run


def softmax_ce_fwd_bwd():
    torch = torch_module()
    z = _t(C.host_normal(C.SOFTMAX_Z, 10)).requires_grad_(True)
    t = _t(C.host_labels(C.SOFTMAX_Z[0], C.SOFTMAX_Z[1], 11))

    def run():
        z.grad = None
        torch.nn.functional.cross_entropy(z, t).backward()
    return run


def dense_fwd_bwd():
    torch = torch_module()
    x = _t(C.host_normal(C.DENSE_X, 12)).requires_grad_(True)
    w = _t(C.host_normal((C.DENSE_OUT, C.DENSE_X[1]), 13) * 0.05).requires_grad_(True)
    b = _t(C.host_normal((C.DENSE_OUT,), 14)).requires_grad_(True)
    gy = _t(C.host_normal((C.DENSE_X[0], C.DENSE_OUT), 15))

    def run():
        x.grad = w.grad = b.grad = None
        torch.nn.functional.linear(x, w, b).backward(gy)
    return run


# -- models ------------------------------------------------------------------------------------
def _mlp(sizes, classes):
    nn = torch_module().nn
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], classes))


def build_torch_model(key: str):
    """The PyTorch twin of ``cases.MODELS[key]`` (same layers, shapes and activations)."""
    torch = torch_module()
    torch.manual_seed(0)
    zoo_name, shape, classes, hidden = C.MODELS[key]
    if zoo_name is None:
        return _mlp((shape[0], *hidden), classes)
    from dlx.bench import torch_zoo

    return torch_zoo.build(zoo_name, shape, classes)


def adam_step(key: str, batch: int):
    """Builder of one PyTorch Adam training step of ``cases.MODELS[key]`` at ``batch``."""
    def build():
        torch = torch_module()
        model = build_torch_model(key)
        model.train()
        x_host, y_host = C.model_batch(key, batch)
        x, y = _t(x_host), _t(y_host)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return step
    return build


def overhead():
    torch = torch_module()
    torch.manual_seed(0)
    d = C.DEEP_NARROW
    model = _mlp((d["width"],) * (d["depth"] + 1), d["classes"])
    x_host, y_host = C.deep_narrow_batch()
    x, y = _t(x_host), _t(y_host)

    def run():
        model.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
    return run
