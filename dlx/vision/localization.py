"""Classification with localisation and landmark detection (course 4 week 3).

The network outputs, per image, ``y_hat = [p_c, b_x, b_y, b_h, b_w, c_1 .. c_K]`` (the
first entry and the class entries as logits); the target is
``y = [p_c, b_x, b_y, b_h, b_w, onehot(class)]`` with p_c = 1 when an object is present.

    L = BCE(sigmoid(z_pc), p_c)                                     always
      + p_c * sum_{k in box} (y_hat_k - y_k)^2                      only with an object
      + p_c * CE(softmax(z_c), class)                               only with an object

The course writes every term as a squared error for simplicity and notes that in practice
logistic loss goes on p_c and softmax cross-entropy on the classes: these are used here.
Landmarks: ``landmark_loss`` = p_c * sum_l ((x_l - x_l*)^2 + (y_l - y_l*)^2). Costs are
means over the batch.
"""

from __future__ import annotations

from dlx import functional as F
from dlx.core import as_tensor
from dlx.errors import ShapeError


def bce_with_logits_elementwise(z, y):
    """Per-element binary cross-entropy of sigmoid(z) against y, stable for any z:
    relu(z) - z y + log(1 + exp(-|z|))."""
    z = as_tensor(z)
    y = as_tensor(y, like=z)
    abs_z = F.relu(z) + F.relu(-z)
    return F.relu(z) - z * y + F.log(1.0 + F.exp(-abs_z))


def localization_loss(y_hat, y, n_classes: int):
    """Mean over the batch of the loss in the module docstring; y_hat, y: (m, 5 + K)."""
    y_hat = as_tensor(y_hat)
    y = as_tensor(y, like=y_hat)
    if y_hat.ndim != 2 or y_hat.shape[1] != 5 + n_classes or y.shape != y_hat.shape:
        raise ShapeError(f"localization_loss: expected outputs and targets (m, {5 + n_classes}),"
                         f" got {tuple(y_hat.shape)} and {tuple(y.shape)}")
    present = y[:, 0:1]
    objectness = bce_with_logits_elementwise(y_hat[:, 0], y[:, 0]).sum()
    box = (present * (y_hat[:, 1:5] - y[:, 1:5]) ** 2).sum()
    classes = -(present * y[:, 5:] * F.log_softmax(y_hat[:, 5:], axis=1)).sum()
    return (objectness + box + classes) * (1.0 / y_hat.shape[0])


def landmark_loss(pred, target, present):
    """Mean over the batch of p_c * sum of squared landmark errors; pred, target (m, 2L)
    as (x_1, y_1, ..., x_L, y_L); present (m,) 0/1."""
    pred = as_tensor(pred)
    target = as_tensor(target, like=pred)
    present = as_tensor(present, like=pred)
    if pred.ndim != 2 or pred.shape[1] % 2 or target.shape != pred.shape \
            or present.shape != (pred.shape[0],):
        raise ShapeError(f"landmark_loss: expected pred and target (m, 2L) and present (m,), "
                         f"got {tuple(pred.shape)}, {tuple(target.shape)}, "
                         f"{tuple(present.shape)}")
    return (present.reshape(-1, 1) * (pred - target) ** 2).sum() * (1.0 / pred.shape[0])
