"""Synthetic shapes data and mAP@0.5 (all-point interpolated AP)."""

import numpy as np
import pytest

from dlx.data.shapes import make_shapes
from dlx.errors import ConfigError
from dlx.vision.boxes import box_iou
from dlx.vision.metrics import average_precision, mean_average_precision


def test_shapes_are_seeded_exact_and_apart():
    X, B, C = make_shapes(40, seed=5)
    X2, B2, C2 = make_shapes(40, seed=5)
    assert np.array_equal(X, X2) and np.array_equal(B, B2) and np.array_equal(C, C2)
    assert not np.array_equal(make_shapes(40, seed=6)[1], B)
    assert X.shape == (40, 3, 64, 64) and X.dtype == np.float32 and 0 <= X.min() <= X.max() <= 1
    assert set(np.unique(C)) <= {-1, 0, 1, 2} and (C[:, 0] >= 0).all()
    for boxes, classes in zip(B, C):
        real = boxes[classes >= 0]
        size = (real[:, 2:] - real[:, :2]) * 64
        assert (size >= 4).all() and (size <= 24).all()
        iou = box_iou(real, real) - np.eye(len(real))
        assert (iou == 0).all()  # objects never overlap
    with pytest.raises(ConfigError, match="make_shapes"):
        make_shapes(0)


def test_rectangle_boxes_are_the_painted_pixels():
    X, B, C = make_shapes(30, seed=1)
    for i, k in zip(*np.nonzero(C == 0)):
        x1, y1, x2, y2 = np.round(B[i, k] * 64).astype(int)
        patch = X[i][:, y1:y2, x1:x2]
        assert np.all(patch == patch[:, :1, :1])  # one flat colour fills the box exactly


def _truth(boxes, classes):
    return np.array(boxes, float).reshape(-1, 4), np.array(classes)


def _dets(boxes, scores, classes):
    return np.array(boxes, float).reshape(-1, 4), np.array(scores, float), np.array(classes)


def test_average_precision_on_a_worked_example():
    a, b = [0, 0, 10, 10], [20, 20, 30, 30]
    truths = [_truth([a, b], [0, 0])]
    # TP (0.9), a duplicate of the same box (FP, 0.8), TP (0.7):
    # precision 1, 1/2, 2/3; recall 1/2, 1/2, 1; envelope 1, 2/3, 2/3 -> AP = 1/2 + 1/2 * 2/3
    dets = [_dets([a, a, b], [0.9, 0.8, 0.7], [0, 0, 0])]
    assert average_precision(dets, truths, 0) == pytest.approx(0.5 + 0.5 * 2 / 3)
    # perfect detections on class 0; class 1 has no ground truth and is left out of the mean
    m, aps = mean_average_precision([_dets([a, b], [0.9, 0.8], [0, 0])], truths, 2)
    assert m == 1.0 and aps == [1.0, None]
    # a box with IoU below 0.5 is a miss; a wrong class is a miss
    shifted = [_dets([[5, 0, 15, 10], b], [0.9, 0.8], [0, 1])]
    assert average_precision(shifted, truths, 0) == 0.0


def test_average_precision_across_images_sorts_by_score():
    a = [0, 0, 10, 10]
    truths = [_truth([a], [1]), _truth([a], [1])]
    dets = [_dets([a], [0.3], [1]), _dets([[40, 40, 50, 50], a], [0.9, 0.2], [1, 1])]
    # order: FP (0.9), TP (0.3), TP (0.2): precision 0, 1/2, 2/3; recall 0, 1/2, 1
    assert average_precision(dets, truths, 1) == pytest.approx(0.5 * 2 / 3 + 0.5 * 2 / 3)
