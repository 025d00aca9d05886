"""Transfer learning: freeze and unfreeze sub-modules, replace a head, cache frozen features.

A frozen parameter has ``requires_grad = False``: no op records a graph edge to it, so its
gradient is never computed, and the optimisers skip it (``fit`` hands them only trainable
parameters). When everything below the head is frozen, its activations on a data set never
change, so :func:`cached_features` computes them once and the head trains on them alone
(the course's advice for small data sets)::

    base = build_model(load_checkpoint("digits04.npz"))  # dlx.train; trained on digits 0-4
    model = replace_head(base, Dense(1024, 5), 2)        # new random head for digits 5-9
    freeze(model.layers[:-1])
    F_train = cached_features(Sequential(*model.layers[:-1]), X_train)
    fit(model.layers[-1], (F_train, y_train))          # train the head only
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Tensor, no_grad
from dlx.errors import ConfigError
from dlx.nn.module import Module


def _modules(modules):
    if isinstance(modules, Module):
        return [modules]
    modules = list(modules)
    for m in modules:
        if not isinstance(m, Module):
            raise ConfigError(f"freeze/unfreeze: expected Modules, got {type(m).__name__}")
    return modules


def freeze(modules) -> None:
    """Set ``requires_grad = False`` on every parameter of ``modules`` (a Module or a list)."""
    for m in _modules(modules):
        for p in m.parameters():
            p.requires_grad = False
            p.grad = None


def unfreeze(modules) -> None:
    """Make every parameter of ``modules`` trainable again (fine-tuning)."""
    for m in _modules(modules):
        for p in m.parameters():
            p.requires_grad = True


def trainable_parameters(model: Module) -> list:
    """The parameters of ``model`` that are not frozen."""
    return [p for p in model.parameters() if p.requires_grad]


def replace_head(model, head: Module, n_layers: int = 1):
    """``model`` (a Sequential) with its last ``n_layers`` layers replaced by ``head``, in
    place; returns the model. The head is new and randomly initialised by whoever built it."""
    layers = getattr(model, "layers", None)
    if not layers or not 1 <= int(n_layers) <= len(layers):
        raise ConfigError(f"replace_head: expected a Sequential with at least {n_layers} "
                          f"layer(s), got {type(model).__name__}")
    if not isinstance(head, Module):
        raise ConfigError(f"replace_head: the head must be a Module, got {type(head).__name__}")
    layers[len(layers) - int(n_layers):] = [head]
    return model


def cached_features(body: Module, X, batch_size: int = 256):
    """``body(X)`` in evaluation mode without a graph, batch by batch, concatenated on the
    device: (m, ...) activations to train a head on (they are fixed while ``body`` is)."""
    from dlx.data.batches import MiniBatches
    from dlx.train.loop import model_dtype

    xp = backends.current().xp
    was_training = body.training
    body.eval()
    parts = []
    try:
        with no_grad():
            for xb in MiniBatches(X, batch_size=batch_size, shuffle=False,
                                  dtype=model_dtype(body)):
                parts.append(body(Tensor(xb)).data)
    finally:
        body.train(was_training)
    return xp.concatenate(parts)
