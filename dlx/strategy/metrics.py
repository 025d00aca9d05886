"""Classification metrics (course 3): accuracy, confusion matrix, precision, recall, F1.

Inputs are label arrays on any backend (y_true, y_pred: (m,) integers; an (m, 1) column is
taken as (m,), any other shape mismatch is a ShapeError); results are plain
Python numbers or a host array for the confusion matrix.
"""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError, LabelError, ShapeError


def _column(a):
    """(m, 1) labels as (m,): the one reshape metrics allow."""
    return a.reshape(-1) if a.ndim == 2 and a.shape[1] == 1 else a


def _labels(y_true, y_pred):
    backend = backends.backend_of(y_pred)
    y_true, y_pred = backend.asarray(y_true), backend.asarray(y_pred)
    t, p = _column(y_true), _column(y_pred)
    if t.shape != p.shape or t.ndim != 1:
        raise ShapeError(f"metrics need two (m,) label arrays (an (m, 1) column is taken as "
                         f"(m,)), got {y_true.shape} and {y_pred.shape}")
    return backend, t, p


def accuracy(y_true, y_pred) -> float:
    """Fraction of predictions equal to the labels."""
    _, y_true, y_pred = _labels(y_true, y_pred)
    return float((y_true == y_pred).mean())


def confusion_matrix(y_true, y_pred, n_classes: int | None = None):
    """C[i, j] = number of examples of class i predicted as j; a host (K, K) int64 array."""
    backend, y_true, y_pred = _labels(y_true, y_pred)
    xp = backend.xp
    for name, a in (("y_true", y_true), ("y_pred", y_pred)):
        if a.dtype.kind not in "biu" or (a.size and int(a.min()) < 0):
            raise LabelError(f"confusion_matrix: {name} must hold class labels >= 0 "
                             f"(integers), got dtype {a.dtype}"
                             + (f" with minimum {a.min()}" if a.size else ""))
    k = n_classes or int(max(int(y_true.max()), int(y_pred.max()))) + 1
    counts = xp.bincount(y_true.astype(xp.int64) * k + y_pred.astype(xp.int64), minlength=k * k)
    return backend.to_host(counts.reshape(k, k))


def _prf(tp, fp, fn) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


AVERAGES = ("binary", "macro", "micro")


def precision_recall_f1(y_true, y_pred, positive: int = 1, average: str = "binary",
                        n_classes: int | None = None) -> dict:
    """Precision P = TP/(TP+FP), recall R = TP/(TP+FN), F1 = 2PR/(P+R); 0 where undefined.

    average: ``binary`` — of class ``positive``; ``macro`` — the unweighted mean of the
    per-class P, R and F1; ``micro`` — from TP, FP, FN summed over classes (for single-label
    data this equals the accuracy). Classes are 0..K-1 (K from ``n_classes`` or the labels).
    """
    if average not in AVERAGES:
        raise ConfigError(f"precision_recall_f1: average must be one of {', '.join(AVERAGES)},"
                          f" got {average!r}")
    if average == "binary":
        _, y_true, y_pred = _labels(y_true, y_pred)
        tp = int(((y_pred == positive) & (y_true == positive)).sum())
        fp = int(((y_pred == positive) & (y_true != positive)).sum())
        fn = int(((y_pred != positive) & (y_true == positive)).sum())
        return _prf(tp, fp, fn)
    cm = confusion_matrix(y_true, y_pred, n_classes).tolist()
    k = len(cm)
    tp = [cm[i][i] for i in range(k)]
    fp = [sum(cm[j][i] for j in range(k)) - tp[i] for i in range(k)]
    fn = [sum(cm[i]) - tp[i] for i in range(k)]
    if average == "micro":
        return _prf(sum(tp), sum(fp), sum(fn))
    per_class = [_prf(*c) for c in zip(tp, fp, fn)]
    return {key: sum(c[key] for c in per_class) / k for key in ("precision", "recall", "f1")}
