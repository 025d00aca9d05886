"""Boxes, pairwise IoU and per-class non-max suppression, on the device.

Formats (last axis of 4):
* corners ``(x1, y1, x2, y2)`` — dlx's internal format, x to the right, y down, x1 <= x2;
* midpoint ``(bx, by, bh, bw)`` — the course's: centre (bx, by), height bh, width bw.

IoU(A, B) = area(A ∩ B) / area(A ∪ B), taken as 0 when the union is empty (two degenerate
boxes), so IoU is always in [0, 1].

Non-max suppression (course 4 week 3), per class: drop boxes scoring below
``score_threshold``; order the rest by descending score (ties: the lower index first, so
the result is deterministic); keep the best, suppress every box of the same class whose IoU
with a kept box is >= ``iou_threshold``; repeat. Vectorised: with the IoU matrix U of the
ordered boxes and S[i, j] = (i < j) & (U[i, j] >= t) & (same class), greedy NMS is the
unique fixed point of keep_j = not any_i (keep_i & S[i, j]); iterating from keep = all
converges to it (entry j is final after j iterations). The boxes are processed in blocks
of ``block`` (64): the fixed point inside a block (at most ``block`` small matrix-vector
products, usually a handful), then one product lets the block's kept boxes suppress all
later ones. So memory is O(block * N) rather than N^2, and the Python loop runs over
blocks and iterations, not boxes (``benchmarks/nms_speed.py`` measures it against a loop).
"""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError, ShapeError


def _xp(a):
    return backends.backend_of(a).xp


def _check_boxes(name, boxes):
    if boxes.ndim < 1 or boxes.shape[-1] != 4:
        raise ShapeError(f"{name}: boxes need a last axis of 4, got shape {tuple(boxes.shape)}")


def midpoint_to_corners(boxes):
    """(bx, by, bh, bw) -> (x1, y1, x2, y2), any leading shape."""
    _check_boxes("midpoint_to_corners", boxes)
    xp = _xp(boxes)
    bx, by, bh, bw = (boxes[..., i] for i in range(4))
    return xp.stack([bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2], axis=-1)


def corners_to_midpoint(boxes):
    """(x1, y1, x2, y2) -> (bx, by, bh, bw), any leading shape."""
    _check_boxes("corners_to_midpoint", boxes)
    xp = _xp(boxes)
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    return xp.stack([(x1 + x2) / 2, (y1 + y2) / 2, y2 - y1, x2 - x1], axis=-1)


def box_area(boxes):
    """Area of corner boxes (..., 4) -> (...); degenerate boxes have area 0."""
    _check_boxes("box_area", boxes)
    xp = _xp(boxes)
    return xp.clip(boxes[..., 2] - boxes[..., 0], 0, None) * \
        xp.clip(boxes[..., 3] - boxes[..., 1], 0, None)


def box_iou(a, b):
    """Pairwise IoU of corner boxes a (N, 4) and b (M, 4) -> (N, M)."""
    _check_boxes("box_iou", a)
    _check_boxes("box_iou", b)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"box_iou: expected (N, 4) and (M, 4), got {a.shape} and {b.shape}")
    xp = _xp(a)
    lt = xp.maximum(a[:, None, :2], b[None, :, :2])
    rb = xp.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = xp.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return xp.where(union > 0, inter / xp.where(union > 0, union, 1), 0)


def nms(boxes, scores, iou_threshold: float = 0.5, classes=None,
        score_threshold: float | None = None, block: int = 64):
    """Indices (int64, into the inputs) of the boxes kept by per-class NMS, best first.

    boxes (N, 4) corners, scores (N,), classes (N,) integer labels or None (one class).
    See the module docstring for the rule, the tie-break and ``block``."""
    _check_boxes("nms", boxes)
    xp = _xp(boxes)
    n = boxes.shape[0]
    if boxes.ndim != 2 or scores.shape != (n,) or (classes is not None
                                                   and classes.shape != (n,)):
        raise ShapeError(f"nms: expected boxes (N, 4), scores (N,) and classes (N,), got "
                         f"{tuple(boxes.shape)}, {tuple(scores.shape)}"
                         + ("" if classes is None else f", {tuple(classes.shape)}"))
    if not 0.0 <= iou_threshold <= 1.0:
        raise ConfigError(f"nms: iou_threshold must be in [0, 1], got {iou_threshold}")
    if int(block) < 1:
        raise ConfigError(f"nms: block must be >= 1, got {block}")
    index = xp.arange(n)
    if score_threshold is not None:
        index = index[scores >= score_threshold]
    # descending score, ties to the lower index (lexsort: the last key is the primary one)
    index = index[xp.lexsort(xp.stack([index, -scores[index]]))]
    m = index.shape[0]
    if m == 0:
        return index.astype(xp.int64)
    ordered = boxes[index]
    cls = None if classes is None else classes[index]
    keep = xp.ones(m, dtype=bool)
    for start in range(0, m, block):
        rows = slice(start, min(start + block, m))
        # suppress[i, j]: box start+i would suppress box start+j (later, same class, IoU >= t)
        suppress = box_iou(ordered[rows], ordered[start:]) >= iou_threshold
        suppress &= xp.arange(suppress.shape[0])[:, None] < xp.arange(m - start)[None, :]
        if cls is not None:
            suppress &= cls[rows][:, None] == cls[start:][None, :]
        weights = suppress.astype(xp.float32)
        n = suppress.shape[0]
        alive = keep[rows].copy()
        kept = alive
        for _ in range(n):  # the fixed point inside the block
            new = alive & ((kept.astype(xp.float32) @ weights[:, :n]) == 0)
            if bool((new == kept).all()):
                break
            kept = new
        keep[rows] = kept
        if start + n < m:  # the block's kept boxes suppress the later ones
            keep[start + n:] &= (kept.astype(xp.float32) @ weights[:, n:]) == 0
    return index[keep].astype(xp.int64)
