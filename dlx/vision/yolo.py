"""YOLO with anchor boxes (Redmon et al. 2016, 2017; course 4 week 3): target encoding,
loss, decoding and detection.

Layout: an S x S grid, A anchors, K classes; predictions and targets are
(m, S, S, A, 5 + K) with, per anchor of a cell,

    [p_c, x, y, w, h, class entries]

* target: p_c = 1 for the cell holding an object's midpoint and, among that cell's anchors,
  the one whose shape has the highest IoU with the box (both centred); x, y = midpoint
  relative to the cell's top-left corner, in cell units (in [0, 1)); w, h = size in cell
  units (may exceed 1, as the course says); the class entries one-hot. Two objects on one
  (cell, anchor) pair: the later one wins.
* prediction (raw network output t): p_c = sigmoid(t_0), (x, y) = sigmoid(t_1, t_2),
  (w, h) = anchor * exp(t_3, t_4), class probabilities softmax(t_5..).
* ``anchors``: (A, 2) as (w, h) in cell units.

Loss (means over the batch; obj = target p_c):
    sum  [obj + lambda_noobj (1 - obj)] * BCE(p_c)
  + lambda_coord * sum obj * [(sigmoid(t_xy) - xy)^2 + (t_wh - log(wh / anchor))^2]
  + sum obj * CE(softmax(t_cls), class)

Boxes outside the encoding are in corner format, coordinates relative to the image (0..1).
"""

from __future__ import annotations

from dlx import backends
from dlx import functional as F
from dlx.core import Tensor, as_tensor
from dlx.errors import ConfigError, ShapeError
from dlx.vision.boxes import corners_to_midpoint, nms
from dlx.vision.localization import bce_with_logits_elementwise


def _xp(a):
    return backends.backend_of(a).xp


def _check_anchors(anchors):
    if anchors.ndim != 2 or anchors.shape[1] != 2 or not bool((anchors > 0).all()):
        raise ConfigError(f"yolo: anchors must be (A, 2) positive (w, h) in cell units, got "
                          f"shape {tuple(anchors.shape)}")


def to_grid(out, n_anchors: int):
    """A convolution's output (m, A*(5+K), S, S) as (m, S, S, A, 5+K) (a Tensor op)."""
    out = as_tensor(out)
    m, channels, s1, s2 = out.shape
    if channels % n_anchors:
        raise ShapeError(f"yolo to_grid: {channels} channels are not A * (5 + K) for "
                         f"A = {n_anchors}")
    return out.reshape(m, n_anchors, channels // n_anchors, s1, s2).transpose(0, 3, 4, 1, 2)


def encode(boxes, classes, grid: int, anchors, n_classes: int):
    """Targets (m, S, S, A, 5+K) from corner boxes (m, n_max, 4) in [0, 1] and integer
    classes (m, n_max), where class -1 marks padding (no object)."""
    xp = _xp(boxes)
    _check_anchors(anchors)
    if boxes.ndim != 3 or boxes.shape[2] != 4 or classes.shape != boxes.shape[:2]:
        raise ShapeError(f"yolo encode: expected boxes (m, n_max, 4) and classes (m, n_max), "
                         f"got {tuple(boxes.shape)} and {tuple(classes.shape)}")
    if bool((classes >= n_classes).any()):
        raise ConfigError(f"yolo encode: class labels must be < n_classes = {n_classes}")
    m, a = boxes.shape[0], anchors.shape[0]
    target = xp.zeros((m, grid, grid, a, 5 + n_classes), dtype=boxes.dtype)
    img, obj = xp.nonzero(classes >= 0)
    if img.size == 0:
        return target
    bx, by, bh, bw = (corners_to_midpoint(boxes[img, obj])[:, i] * grid for i in range(4))
    col = xp.clip(xp.floor(bx), 0, grid - 1).astype(xp.int64)
    row = xp.clip(xp.floor(by), 0, grid - 1).astype(xp.int64)
    inter = xp.minimum(bw[:, None], anchors[None, :, 0]) \
        * xp.minimum(bh[:, None], anchors[None, :, 1])
    shape_iou = inter / (bw[:, None] * bh[:, None] + anchors[:, 0] * anchors[:, 1] - inter)
    best = xp.argmax(shape_iou, axis=1)
    onehot = xp.eye(n_classes, dtype=boxes.dtype)[classes[img, obj]]
    values = xp.concatenate([xp.ones((img.size, 1), boxes.dtype),
                             xp.stack([bx - col, by - row, bw, bh], axis=1), onehot], axis=1)
    target[img, row, col, best] = values
    return target


def _cell_offsets(xp, grid, dtype):
    r = xp.arange(grid, dtype=dtype)
    return r.reshape(1, 1, grid, 1), r.reshape(1, grid, 1, 1)  # column index, row index


def decode(grid_values, anchors, from_logits: bool = True):
    """(boxes, scores, classes) from (m, S, S, A, 5+K) predictions (raw, ``from_logits``)
    or targets: boxes (m, S*S*A, 4) corners in image units, scores = p_c * max class
    probability (m, S*S*A), classes (m, S*S*A) int64."""
    g = grid_values.data if isinstance(grid_values, Tensor) else grid_values
    xp = _xp(g)
    m, s = g.shape[0], g.shape[1]
    if from_logits:
        pc = 1 / (1 + xp.exp(-g[..., 0]))
        xy = 1 / (1 + xp.exp(-g[..., 1:3]))
        wh = anchors * xp.exp(g[..., 3:5])
        z = g[..., 5:] - g[..., 5:].max(axis=-1, keepdims=True)
        probs = xp.exp(z) / xp.exp(z).sum(axis=-1, keepdims=True)
    else:
        pc, xy, wh, probs = g[..., 0], g[..., 1:3], g[..., 3:5], g[..., 5:]
    col, row = _cell_offsets(xp, s, g.dtype)
    bx, by = (col + xy[..., 0]) / s, (row + xy[..., 1]) / s
    bw, bh = wh[..., 0] / s, wh[..., 1] / s
    boxes = xp.stack([bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2], axis=-1)
    scores = pc * probs.max(axis=-1)
    classes = xp.argmax(probs, axis=-1).astype(xp.int64)
    return boxes.reshape(m, -1, 4), scores.reshape(m, -1), classes.reshape(m, -1)


def detect(predictions, anchors, score_threshold: float = 0.5, iou_threshold: float = 0.5):
    """Per image: (boxes (n, 4), scores (n,), classes (n,)) after score filtering and
    per-class NMS of raw (m, S, S, A, 5+K) predictions."""
    boxes, scores, classes = decode(predictions, anchors)
    results = []
    for i in range(boxes.shape[0]):
        keep = nms(boxes[i], scores[i], iou_threshold, classes[i], score_threshold)
        results.append((boxes[i][keep], scores[i][keep], classes[i][keep]))
    return results


def yolo_loss(pred, target, anchors, lambda_coord: float = 5.0, lambda_noobj: float = 0.5):
    """The loss of the module docstring; pred a Tensor (m, S, S, A, 5+K) of raw outputs,
    target an array of the same shape from :func:`encode`."""
    pred = as_tensor(pred)
    xp = _xp(pred.data)
    t = target.data if isinstance(target, Tensor) else target
    if t.shape != pred.shape:
        raise ShapeError(f"yolo_loss: predictions {tuple(pred.shape)} and targets "
                         f"{tuple(t.shape)} differ")
    _check_anchors(anchors)
    obj = t[..., 0]
    weight = obj + lambda_noobj * (1 - obj)
    objectness = (as_tensor(weight, like=pred)
                  * bce_with_logits_elementwise(pred[..., 0], obj)).sum()
    mask = as_tensor(obj[..., None], like=pred)
    t_wh = xp.log(xp.where(mask.data > 0, t[..., 3:5], anchors) / anchors)
    box = (mask * ((F.sigmoid(pred[..., 1:3]) - t[..., 1:3]) ** 2
                   + (pred[..., 3:5] - t_wh) ** 2)).sum()
    cls = -(mask * t[..., 5:] * F.log_softmax(pred[..., 5:], axis=-1)).sum()
    return (objectness + lambda_coord * box + cls) * (1.0 / pred.shape[0])


class DetectionLoss:
    """``yolo_loss(to_grid(outputs, A), targets, anchors)`` as a loss for ``fit``: the
    network's (m, A*(5+K), S, S) outputs against (m, S, S, A, 5+K) targets from
    :func:`encode`. The targets' layout is not the outputs', so the loss checks their shape
    itself (``checks_target_shape``: ``fit`` then takes the targets as they are)."""

    checks_target_shape = True

    def __init__(self, anchors, lambda_coord: float = 5.0, lambda_noobj: float = 0.5):
        _check_anchors(anchors)
        self.anchors, self.lambda_coord, self.lambda_noobj = anchors, lambda_coord, lambda_noobj

    def __call__(self, outputs, targets):
        grid = to_grid(outputs, self.anchors.shape[0])
        return yolo_loss(grid, targets, self.anchors, self.lambda_coord, self.lambda_noobj)

