"""PyTorch twins of the dlx model-zoo networks the benchmarks train (:mod:`dlx.models.zoo`):
same layers, shapes, activations and pooling, so a step does the same arithmetic."""

from __future__ import annotations

from dlx.bench.torch_ref import torch_module


def lenet5(shape, classes):
    """zoo.lenet5(modern=True): conv5x5(6, padding to 32x32)+ReLU, maxpool 2, conv5x5(16)+ReLU,
    maxpool 2, FC 120, FC 84 (ReLU), logits."""
    nn = torch_module().nn
    c, h, w = shape
    pad = (max(0, (32 - h + 1) // 2), max(0, (32 - w + 1) // 2))
    h2, w2 = ((h + 2 * pad[0] - 4) // 2 - 4) // 2, ((w + 2 * pad[1] - 4) // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * h2 * w2, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, classes))


def _conv_bn(nn, cin, cout, k, stride):
    return [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=False), nn.BatchNorm2d(cout)]


def resnet(shape, classes, widths=(16, 32, 64)):
    """zoo.resnet defaults: conv3x3+BN+ReLU stem, one basic block per width (stride 2 and a
    1x1 projection shortcut from the second stage on), global average pooling, logits."""
    torch = torch_module()
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.main = nn.Sequential(*_conv_bn(nn, cin, cout, 3, stride), nn.ReLU(),
                                      *_conv_bn(nn, cout, cout, 3, 1))
            self.shortcut = (nn.Sequential(*_conv_bn(nn, cin, cout, 1, stride))
                             if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            return torch.relu(self.main(x) + self.shortcut(x))

    c = shape[0]
    layers = [*_conv_bn(nn, c, widths[0], 3, 1), nn.ReLU()]
    c = widths[0]
    for stage, width in enumerate(widths):
        layers.append(Block(c, width, 2 if stage else 1))
        c = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes)]
    return nn.Sequential(*layers)


def build(name: str, shape, classes):
    builders = {"lenet5": lenet5, "resnet": resnet}
    return builders[name](shape, classes)
