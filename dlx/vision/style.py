"""Neural style transfer (Gatys, Ecker, Bethge 2015; course 4 week 4).

With a(X) the activations (1, n_C, n_H, n_W) of one layer for image X:

    J_content(C, G) = 1 / (4 n_H n_W n_C) * sum (a(C) - a(G))^2                 (one layer)
    Gram:  G = A A^T,  A = a unrolled to (n_C, n_H n_W)                          (n_C, n_C)
    J_style^[l](S, G) = 1 / (2 n_H n_W n_C)^2 * sum (G(S) - G(G))^2
    J_style = sum_l lambda_l J_style^[l],       J(G) = alpha J_content + beta J_style

and gradient descent (Adam) on the pixels of the generated image G itself, clipped to
[0, 1] after every step.

Features: no pretrained ImageNet network can be downloaded here, so the default extractor
is a multi-scale ConvNet with fixed random weights — random filters suffice for texture and
style when every layer's contribution is normalised (Ustyuzhaninov, Brendel, Gatys, Bethge
2016; He, Wang, Hopcroft 2016). Normalisation here: lambda_l = w_l / J_style^[l](S, G_0), so
every layer starts at the same weight. A VGG-style network's weights from a user ``.npz``
(arrays ``conv{k}.W`` (K, C, f, f) and ``conv{k}.b``, optional ``pool_after`` listing the
convolutions followed by 2x2 max pooling) run through the same :class:`FeatureNet`.
"""

from __future__ import annotations

from dlx import backends
from dlx.core import Parameter, Tensor, as_tensor, no_grad
from dlx.errors import ConfigError, ShapeError
from dlx.nn import AvgPool2D, Conv2D, MaxPool2D
from dlx.nn.module import Module


def _check_activation(name, a):
    if a.ndim != 4 or a.shape[0] != 1:
        raise ShapeError(f"{name}: expected one image's activations (1, n_C, n_H, n_W), got "
                         f"shape {tuple(a.shape)}")


def content_cost(a_c, a_g):
    """1 / (4 n_H n_W n_C) * sum (a(C) - a(G))^2 for activations (1, n_C, n_H, n_W)."""
    a_g = as_tensor(a_g)
    _check_activation("content_cost", a_g)
    if tuple(as_tensor(a_c).shape) != tuple(a_g.shape):
        raise ShapeError(f"content_cost: shapes {tuple(as_tensor(a_c).shape)} and "
                         f"{tuple(a_g.shape)} differ")
    _, c, h, w = a_g.shape
    d = a_g - a_c
    return (d * d).sum() * (1.0 / (4 * h * w * c))


def gram_matrix(a):
    """A A^T of activations (1, n_C, n_H, n_W) unrolled to A (n_C, n_H n_W): (n_C, n_C)."""
    a = as_tensor(a)
    _check_activation("gram_matrix", a)
    unrolled = a.reshape(a.shape[1], -1)
    return unrolled @ unrolled.T


def layer_style_cost(a_s, a_g):
    """1 / (2 n_H n_W n_C)^2 * sum (G(S) - G(G))^2 for one layer's activations."""
    a_g = as_tensor(a_g)
    _check_activation("layer_style_cost", a_g)
    _, c, h, w = a_g.shape
    g_s = a_s if getattr(a_s, "ndim", 0) == 2 else gram_matrix(a_s)
    d = gram_matrix(a_g) - g_s
    return (d * d).sum() * (1.0 / (2 * h * w * c) ** 2)


def style_cost(style_acts, gen_acts, weights):
    """sum_l lambda_l J_style^[l]; style_acts may hold Gram matrices (precomputed)."""
    if not (len(style_acts) == len(gen_acts) == len(weights)):
        raise ConfigError(f"style_cost: {len(style_acts)} style layers, {len(gen_acts)} "
                          f"generated layers and {len(weights)} weights differ")
    total = None
    for a_s, a_g, lam in zip(style_acts, gen_acts, weights):
        term = layer_style_cost(a_s, a_g) * float(lam)
        total = term if total is None else total + term
    return total


class FeatureNet(Module):
    """Convolutions (ReLU), each optionally followed by pooling; ``forward`` returns every
    convolution's activation (the layers J_style and J_content can read)."""

    def __init__(self, convs, pools):
        super().__init__()
        if len(convs) != len(pools) or not convs:
            raise ConfigError("FeatureNet: need one pooling entry (a layer or None) per "
                              "convolution, and at least one convolution")
        self.convs, self.pools = list(convs), list(pools)

    def forward(self, x):
        acts = []
        for conv, pool in zip(self.convs, self.pools):
            x = conv(x)
            acts.append(x)
            if pool is not None:
                x = pool(x)
        return acts

    @classmethod
    def random(cls, widths=(32, 64, 128, 128), kernels=(3, 3, 3, 3), seed: int = 0):
        """Fixed random filters (He-initialised from ``seed``), 2x2 average pooling after
        every convolution but the last: receptive fields at several scales."""
        backend = backends.current()
        state = backend.get_rng_state()
        backend.seed(seed)
        try:
            convs, c = [], 3
            for width, f in zip(widths, kernels):
                convs.append(Conv2D(c, width, f, padding="same", activation="relu"))
                c = width
        finally:
            backend.set_rng_state(state)
        pools = [AvgPool2D(2) for _ in convs[:-1]] + [None]
        net = cls(convs, pools)
        for p in net.parameters():
            p.requires_grad = False
        return net

    @classmethod
    def from_npz(cls, path):
        """A VGG-style network from a user file (see the module docstring)."""
        from dlx.data.datasets import read_npz

        names, k = [], 0
        while True:
            try:
                arrays = read_npz(path, [f"conv{k}.W", f"conv{k}.b"], "weights file")
            except ConfigError:
                break
            names.append(arrays)
            k += 1
        if not names:
            raise ConfigError(f"{path}: expected arrays conv0.W, conv0.b, ... (a VGG-style "
                              "network's convolutions)")
        try:
            pool_after = {int(i) for i in read_npz(path, ["pool_after"], "weights file")
                          ["pool_after"].reshape(-1).tolist()}
        except ConfigError:
            pool_after = set()
        convs = []
        for arrays in names:
            w, b = arrays.values()
            if w.ndim != 4 or b.shape != (w.shape[0],):
                raise ConfigError(f"{path}: conv weights must be (K, C, f, f) with bias (K,), "
                                  f"got {w.shape} and {b.shape}")
            conv = Conv2D(w.shape[1], w.shape[0], (w.shape[2], w.shape[3]),
                          padding=((w.shape[2] - 1) // 2, (w.shape[3] - 1) // 2),
                          activation="relu")
            conv.W.data, conv.b.data = (backends.current().asarray(a, dtype=conv.W.dtype)
                                        for a in (w, b))
            convs.append(conv)
        pools = [MaxPool2D(2) if i in pool_after else None for i in range(len(convs))]
        net = cls(convs, pools)
        for p in net.parameters():
            p.requires_grad = False
        return net


class StyleTransfer:
    """Optimise a generated image against a content and a style image.

    ``features``: a FeatureNet; ``content_layer``: index of the activation J_content
    reads; ``style_layers``/``style_weights``: which activations J_style reads, with
    weights w_l (normalised as in the module docstring). Images are (3, H, W) arrays in
    [0, 1]; they are centred (x - 0.5) before the network."""

    def __init__(self, features: FeatureNet, content_layer: int = 2, style_layers=None,
                 style_weights=None, alpha: float = 1.0, beta: float = 100.0):
        n = len(features.convs)
        self.style_layers = list(range(n)) if style_layers is None else list(style_layers)
        if not 0 <= content_layer < n or any(not 0 <= i < n for i in self.style_layers):
            raise ConfigError(f"StyleTransfer: layers must be in 0..{n - 1}, got content "
                              f"{content_layer}, style {self.style_layers}")
        self.style_weights = [1.0 / len(self.style_layers)] * len(self.style_layers) \
            if style_weights is None else [float(w) for w in style_weights]
        self.features, self.content_layer = features, content_layer
        self.alpha, self.beta = float(alpha), float(beta)

    def _acts(self, image):
        return self.features(image - 0.5)

    def content_distance(self, a, b) -> float:
        """J_content between two (3, H, W) images: the yardstick for how far the generated
        image drifted from the content (J_content(C, S) is the style image's distance)."""
        backend = backends.current()
        dtype = self.features.convs[0].W.dtype
        with no_grad():
            acts = [self._acts(Tensor(backend.asarray(x, dtype=dtype)[None]))[self.content_layer]
                    for x in (a, b)]
            return float(content_cost(acts[0], acts[1]).item())

    def layer_costs(self, generated, content_acts, style_grams):
        """(J_content, [J_style^[l] per style layer]) as Tensors for a (1, 3, H, W) image."""
        acts = self._acts(generated)
        return (content_cost(content_acts, acts[self.content_layer]),
                [layer_style_cost(g, acts[i]) for g, i in zip(style_grams, self.style_layers)])

    def run(self, content, style, steps: int = 200, lr: float = 0.02, init: str = "content",
            noise: float = 0.1, seed: int = 0, progress=None):
        """Optimise; returns (image (3, H, W) backend array, history): one dict per step with
        "cost" (alpha J_content + beta * normalised J_style, what is minimised), "content"
        (J_content) and "style" (the course's J_style = sum_l w_l J_style^[l])."""
        from dlx.optim import Adam

        if init not in ("content", "noise"):
            raise ConfigError(f"StyleTransfer: init must be 'content' or 'noise', got {init!r}")
        backend = backends.current()
        xp = backend.xp
        dtype = self.features.convs[0].W.dtype
        c, s = (backend.asarray(a, dtype=dtype)[None] for a in (content, style))
        if c.ndim != 4 or c.shape[1] != 3 or s.ndim != 4 or s.shape[1] != 3:
            raise ShapeError(f"StyleTransfer: content and style must be (3, H, W) images, got "
                             f"{tuple(content.shape)} and {tuple(style.shape)}")
        with no_grad():
            content_acts = self._acts(Tensor(c))[self.content_layer].data
            style_acts = self._acts(Tensor(s))
            grams = [gram_matrix(style_acts[i]).data for i in self.style_layers]
        backend.seed(seed)
        start = c if init == "content" else xp.full_like(c, 0.5)
        jitter = backend.rng.standard_normal(c.shape, dtype=xp.float64).astype(dtype)
        image = Parameter(xp.clip(start + noise * jitter, 0, 1))
        opt = Adam([image], lr=lr)
        history, lambdas = [], None
        for step in range(steps + 1):
            j_content, j_layers = self.layer_costs(image, content_acts, grams)
            values = [float(j.item()) for j in j_layers]
            if lambdas is None:  # every layer starts at its weight w_l
                lambdas = [w / max(v, 1e-30) for w, v in zip(self.style_weights, values)]
            j_style = None
            for lam, j in zip(lambdas, j_layers):
                j_style = j * lam if j_style is None else j_style + j * lam
            total = self.alpha * j_content + self.beta * j_style
            history.append({"step": step, "cost": float(total.item()),
                            "content": float(j_content.item()),
                            "style": sum(w * v for w, v in zip(self.style_weights, values))})
            if progress is not None:
                progress(step, history[-1])
            if step == steps:
                break
            opt.zero_grad()
            total.backward()
            opt.step()
            xp.clip(image.data, 0, 1, out=image.data)
        return image.data[0], history
