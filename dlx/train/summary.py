"""``model.summary()``: layers, output shapes and parameter counts (the course's dimension check).

Output shapes come from one forward pass of a zero batch of ``(batch, *input_shape)`` in
evaluation mode without a graph; each leaf module (one with no sub-modules) reports the
shape it returned. Without an input shape (none given and no ``model.config``) the shapes
column shows "?".
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Tensor, no_grad


def _leaf_modules(model):
    return [(name.rstrip(".") or type(model).__name__, m) for name, m in model.named_modules()
            if not any(True for _ in m.children())]


def _own_parameter_count(module) -> int:
    from dlx.core import Parameter

    return sum(v.size for v in vars(module).values() if isinstance(v, Parameter))


def _trace_shapes(model, input_shape, batch: int) -> dict:
    """id(module) -> output shape, from one forward pass with wrapped ``forward`` methods."""
    shapes: dict[int, tuple] = {}
    leaves = [m for _, m in _leaf_modules(model)]

    def wrap(module):
        inner = module.forward

        def forward(*args, **kwargs):
            out = inner(*args, **kwargs)
            shapes[id(module)] = tuple(out.shape) if hasattr(out, "shape") else None
            return out
        return forward

    for m in leaves:
        object.__setattr__(m, "forward", wrap(m))
    backend = backends.current()
    params = model.parameters()
    dtype = params[0].dtype if params else backend.default_dtype
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(Tensor(backend.xp.zeros((batch, *input_shape), dtype=dtype)))
    finally:
        model.train(was_training)
        for m in leaves:
            del m.__dict__["forward"]
    return shapes


def summary(model, input_shape=None, batch: int = 1, print_fn=print) -> str:
    """Print (with ``print_fn``; None to skip) and return a table of the model's layers."""
    if input_shape is None and getattr(model, "config", None):
        input_shape = model.config.get("input_shape")
    shapes = _trace_shapes(model, tuple(input_shape), batch) if input_shape else {}
    rows = [("layer", "type", "output shape", "params")]
    for name, m in _leaf_modules(model):
        shape = shapes.get(id(m))
        shown = "?" if shape is None else "(m, " + ", ".join(map(str, shape[1:])) + ")"
        rows.append((name, repr(m).split("\n")[0], shown, f"{_own_parameter_count(m):,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    rule = "-" * (sum(widths) + 6)
    lines = [f"{type(model).__name__}" + (f" on input (m, {', '.join(map(str, input_shape))})"
                                          if input_shape else ""), rule]
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            lines.append(rule)
    total = model.num_parameters()
    buffers = sum(b.size for _, b in model.named_buffers())
    lines += [rule, f"trainable parameters: {total:,}"
              + (f"   buffers: {buffers:,}" if buffers else "")]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
