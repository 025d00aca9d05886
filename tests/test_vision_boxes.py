"""Boxes, IoU and NMS against direct loop references (and torchvision where installed)."""

import numpy as np
import pytest

from dlx.errors import ConfigError, ShapeError
from dlx.vision.boxes import box_area, box_iou, corners_to_midpoint, midpoint_to_corners, nms


def iou_reference(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms_reference(boxes, scores, thr, classes, score_thr=None):
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    order = [i for i in order if score_thr is None or scores[i] >= score_thr]
    kept = []
    for i in order:
        if all(classes[k] != classes[i] or iou_reference(boxes[k], boxes[i]) < thr for k in kept):
            kept.append(i)
    return kept


def random_set(rng):
    """Up to 12 boxes with ties in score, degenerate (zero width/height) and duplicate boxes."""
    n = int(rng.integers(0, 13))
    xy = rng.integers(0, 10, (n, 2)).astype(float)
    wh = rng.integers(0, 6, (n, 2)).astype(float)  # zero width or height happens
    boxes = np.concatenate([xy, xy + wh], axis=1)
    if n > 2:
        boxes[rng.integers(0, n)] = boxes[0]  # an identical box
    scores = np.round(rng.uniform(0, 1, n), 1)  # one decimal: ties are common
    classes = rng.integers(0, 3, n)
    return boxes, scores, classes


def test_converters_round_trip(rng):
    corners = np.sort(rng.uniform(0, 1, (5, 3, 2, 2)), axis=-2).reshape(5, 3, 4)[..., [0, 2, 1, 3]]
    mid = corners_to_midpoint(corners)
    np.testing.assert_allclose(mid[..., 2], corners[..., 3] - corners[..., 1])
    np.testing.assert_allclose(midpoint_to_corners(mid), corners, atol=1e-12)


def test_iou_and_nms_equal_loop_references_on_1000_random_sets(backend):
    rng = np.random.default_rng(7)
    for trial in range(1000):
        boxes, scores, classes = random_set(rng)
        if len(boxes):
            got = backend.to_host(box_iou(backend.asarray(boxes), backend.asarray(boxes[::-1])))
            want = [[iou_reference(a, b) for b in boxes[::-1]] for a in boxes]
            np.testing.assert_allclose(got, want, atol=1e-12, err_msg=f"set {trial}")
        thr = [0.0, 0.3, 0.5, 1.0][trial % 4]
        score_thr = None if trial % 3 else 0.3
        block = [64, 1, 3][(trial // 4) % 3]  # one block, and several
        kept = nms(backend.asarray(boxes.reshape(-1, 4)), backend.asarray(scores),
                   thr, backend.asarray(classes), score_threshold=score_thr, block=block)
        assert backend.to_host(kept).tolist() == nms_reference(boxes, scores, thr, classes,
                                                               score_thr), f"set {trial}"


def test_nms_without_classes_and_degenerate_boxes(backend):
    boxes = backend.asarray(np.array([[0, 0, 2, 2], [0, 0, 2, 2], [1, 1, 1, 1], [1, 1, 1, 1.]]))
    scores = backend.asarray(np.array([0.5, 0.5, 0.9, 0.9]))
    # identical boxes: the tie goes to the lower index; degenerate boxes have IoU 0
    assert backend.to_host(nms(boxes, scores, 0.5)).tolist() == [2, 3, 0]
    assert backend.to_host(box_area(boxes)).tolist() == [4, 4, 0, 0]


def test_errors_are_clear(backend):
    with pytest.raises(ShapeError, match="box_iou: boxes need a last axis of 4"):
        box_iou(backend.asarray(np.zeros((2, 3))), backend.asarray(np.zeros((2, 4))))
    with pytest.raises(ShapeError, match="nms: expected boxes"):
        nms(backend.asarray(np.zeros((2, 4))), backend.asarray(np.zeros(3)))
    with pytest.raises(ConfigError, match="iou_threshold"):
        nms(backend.asarray(np.zeros((2, 4))), backend.asarray(np.zeros(2)), 1.5)


@pytest.mark.torch
def test_equal_torchvision_where_installed():
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("torchvision.ops")
    rng = np.random.default_rng(3)
    for _ in range(200):
        boxes, scores, _ = random_set(rng)
        if not len(boxes):
            continue
        scores = scores + rng.uniform(0, 1e-3, len(scores))  # torchvision's ties are unordered
        tb, ts = torch.tensor(boxes), torch.tensor(scores)
        np.testing.assert_allclose(box_iou(boxes, boxes), ops.box_iou(tb, tb).numpy(), atol=1e-12)
        assert nms(boxes, scores, 0.5).tolist() == ops.nms(tb, ts, 0.5).tolist()
