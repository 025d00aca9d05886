"""Pooling and flattening of NCHW images.

Window geometry as in convolution: kernel (fh, fw), stride (sh, sw) — the stride defaults to
the kernel size —, symmetric zero padding (ph, pw); output (N, C, OH, OW) with
OH = floor((H + 2 ph - fh) / sh) + 1.

* max pooling: y = max over the window (padded cells never win); the gradient goes to the
  first maximum of each window (the backend's maxpool primitives).
* average pooling: y = (1 / (fh fw)) * sum over the window, padded cells counting as zeros;
  each input pixel receives gy / (fh fw) from every window that covers it.
* global average pooling: (N, C, H, W) -> (N, C), the mean over H and W.
* flatten: (N, ...) -> (N, prod(...)), the bridge from convolutions to Dense layers.
"""

from __future__ import annotations

from dlx.backends import as_pair
from dlx.core import Function, Tensor, as_tensor
from dlx.errors import ConfigError
from dlx.functional.conv import check_window
from dlx.functional.math import mean, reshape


def pool_geometry(name, kernel_size, stride, padding):
    """(kernel, stride, padding) pairs for a pooling layer; stride None means the kernel."""
    kernel = as_pair(kernel_size, f"{name} kernel_size")
    stride = kernel if stride is None else as_pair(stride, f"{name} stride")
    padding = as_pair(padding, f"{name} padding")
    if padding[0] < 0 or padding[1] < 0 or 2 * padding[0] > kernel[0] \
            or 2 * padding[1] > kernel[1]:
        raise ConfigError(f"{name}: padding must be between 0 and half the kernel size, got "
                          f"padding {padding} for kernel {kernel}")
    return kernel, stride, padding


class MaxPool2d(Function):
    def __init__(self, kernel, stride, padding):
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def forward(self, x):
        check_window("max_pool2d", x.shape, self.kernel, self.stride, self.padding)
        y, self.argmax = self.backend.maxpool_fwd(x, self.kernel, self.stride, self.padding)
        self.x_shape = x.shape
        return y

    def backward(self, gy):
        return self.backend.maxpool_bwd(gy, self.argmax, self.x_shape, self.kernel,
                                        self.stride, self.padding)


def _window(a, i, j, stride, oh, ow):
    """The (N, C, OH, OW) view of padded ``a`` read by kernel offset (i, j)."""
    sh, sw = stride
    return a[:, :, i: i + sh * (oh - 1) + 1: sh, j: j + sw * (ow - 1) + 1: sw]


class AvgPool2d(Function):
    """Sum of the fh*fw strided slices of the padded input, times 1/(fh fw)."""

    def __init__(self, kernel, stride, padding):
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def forward(self, x):
        xp = self.xp
        oh, ow = check_window("avg_pool2d", x.shape, self.kernel, self.stride, self.padding)
        (fh, fw), (ph, pw) = self.kernel, self.padding
        xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        y = xp.zeros((x.shape[0], x.shape[1], oh, ow), dtype=x.dtype)
        for i in range(fh):
            for j in range(fw):
                y += _window(xpad, i, j, self.stride, oh, ow)
        y *= 1.0 / (fh * fw)
        self.x_shape = x.shape
        return y

    def backward(self, gy):
        xp = self.xp
        (fh, fw), (ph, pw) = self.kernel, self.padding
        n, c, h, w = self.x_shape
        oh, ow = gy.shape[2], gy.shape[3]
        share = gy * (1.0 / (fh * fw))
        gxpad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gy.dtype)
        for i in range(fh):
            for j in range(fw):
                _window(gxpad, i, j, self.stride, oh, ow)[...] += share
        return gxpad[:, :, ph: ph + h, pw: pw + w] if ph or pw else gxpad


def max_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """Max pooling of NCHW ``x`` (stride defaults to ``kernel_size``)."""
    geometry = pool_geometry("max_pool2d", kernel_size, stride, padding)
    return MaxPool2d(*geometry)(as_tensor(x))


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """Average pooling of NCHW ``x`` (stride defaults to ``kernel_size``; zero padding)."""
    geometry = pool_geometry("avg_pool2d", kernel_size, stride, padding)
    return AvgPool2d(*geometry)(as_tensor(x))


def global_avg_pool2d(x) -> Tensor:
    """(N, C, H, W) -> (N, C): the mean of each channel over its H x W positions."""
    x = as_tensor(x)
    check_window("global_avg_pool2d", x.shape, (1, 1), (1, 1), (0, 0))
    return mean(x, axis=(2, 3))


def flatten(x) -> Tensor:
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...), keeping the batch axis."""
    x = as_tensor(x)
    return reshape(x, (x.shape[0], -1))
