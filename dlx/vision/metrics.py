"""Detection quality: average precision per class and mAP at an IoU threshold.

For class c, every detection of c over all images is sorted by descending score and
matched greedily: it is a true positive when its best-IoU ground-truth box of class c in
the same image has IoU >= ``iou_threshold`` and is not matched yet, otherwise a false
positive. With precision p_k and recall r_k after the k-th detection, AP is the area under
the precision envelope p*(r) = max_{r' >= r} p(r') ("all-point" interpolation, PASCAL VOC
2010 onwards): AP = sum_k (r_k - r_{k-1}) p*(r_k). mAP is the mean AP over the classes
that have ground truth.
"""

from __future__ import annotations

from dlx import backends
from dlx.vision.boxes import box_iou


def _host(a):
    return backends.backend_of(a).to_host(a)


def average_precision(detections, truths, cls: int, iou_threshold: float = 0.5):
    """AP of class ``cls``. detections: per image (boxes (n, 4), scores (n,), classes (n,));
    truths: per image (boxes (k, 4), classes (k,)) with -1 classes ignored. None when the
    class has no ground truth."""
    scored = []  # (score, image, box)
    n_truth = 0
    gt = []
    for i, ((boxes, scores, classes), (t_boxes, t_classes)) in enumerate(zip(detections, truths)):
        keep = _host(t_classes) == cls
        gt.append(_host(t_boxes)[keep] if keep.any() else None)
        n_truth += int(keep.sum())
        mine = _host(classes) == cls
        for score, k in zip(_host(scores)[mine].tolist(), mine.nonzero()[0].tolist()):
            scored.append((-score, i, k))
    if n_truth == 0:
        return None
    scored.sort()
    matched = [set() for _ in gt]
    tp = []
    for _, i, k in scored:
        hit = False
        if gt[i] is not None:
            ious = box_iou(_host(detections[i][0])[k:k + 1], gt[i])[0]
            j = int(ious.argmax())
            if ious[j] >= iou_threshold and j not in matched[i]:
                matched[i].add(j)
                hit = True
        tp.append(hit)
    precision, recall, hits = [], [], 0
    for k, hit in enumerate(tp, 1):
        hits += hit
        precision.append(hits / k)
        recall.append(hits / n_truth)
    ap, prev_r = 0.0, 0.0
    envelope = precision[:]
    for k in range(len(envelope) - 2, -1, -1):
        envelope[k] = max(envelope[k], envelope[k + 1])
    for p, r in zip(envelope, recall):
        ap += (r - prev_r) * p
        prev_r = r
    return ap


def mean_average_precision(detections, truths, n_classes: int, iou_threshold: float = 0.5):
    """(mAP, [AP per class or None]) over ``n_classes``; see :func:`average_precision`."""
    aps = [average_precision(detections, truths, c, iou_threshold) for c in range(n_classes)]
    valid = [a for a in aps if a is not None]
    return (sum(valid) / len(valid) if valid else 0.0), aps
