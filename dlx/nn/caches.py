"""The course's caches: each layer's Z and A from the last forward pass, and after
``backward()`` their gradients dZ = dJ/dZ and dA = dJ/dA.

    with nn.record_caches(model) as caches:
        cost = F.softmax_cross_entropy(model(X), y)
        cost.backward()
    caches["layers.0"].dZ      # (m, n[1]), the course's dZ[1] transposed (batch-first)

Every layer with a ``forward_parts(x) -> (Z, A)`` method (``Dense``, ``Conv2D``) is
recorded under its dotted name; Z and A call ``Tensor.retain_grad()``. Only the last forward
pass inside the block is kept, and nothing is recorded after the block ends.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from dlx.core import Tensor
from dlx.errors import ConfigError


@dataclass
class Cache:
    """One layer's Z and A (Tensors); ``dZ``/``dA`` are their gradients after backward()."""

    Z: Tensor
    A: Tensor

    @property
    def dZ(self):
        return self.Z.grad

    @property
    def dA(self):
        return self.A.grad


@contextlib.contextmanager
def record_caches(model):
    """Context manager yielding a dict ``{layer name: Cache}`` filled by each forward pass."""
    layers, seen = [], set()
    for name, m in model.named_modules():
        if hasattr(m, "forward_parts") and id(m) not in seen:  # a shared layer: its first name
            seen.add(id(m))
            layers.append((name.rstrip("."), m))
    if not layers:
        raise ConfigError(f"record_caches: {type(model).__name__} has no layer with Z and A "
                          "(Dense or Conv2D) to record")
    caches: dict[str, Cache] = {}

    def recording(name, layer):
        def forward(x):
            z, a = layer.forward_parts(x)
            if z.requires_grad:
                z.retain_grad()
                a.retain_grad()
            caches[name or type(layer).__name__] = Cache(z, a)
            return a
        return forward

    for name, layer in layers:
        object.__setattr__(layer, "forward", recording(name, layer))
    try:
        yield caches
    finally:
        for _, layer in layers:
            layer.__dict__.pop("forward", None)
