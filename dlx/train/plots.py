"""PNG plots of a training run (matplotlib, the ``train`` extra), drawn off-screen.

* learning curves: train and dev cost per epoch — where they part is over-fitting, where
  the dev cost turns up is where to stop early;
* accuracy curves: train and dev accuracy per epoch;
* confusion matrix: counts of (true class, predicted class).

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas directly, so the
caller's pyplot backend is never changed.
"""

from __future__ import annotations

import math
from pathlib import Path

from dlx.errors import ConfigError


def _figure(size=(6.0, 4.0)):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError("plots need matplotlib: pip install 'dlx[train]'") from None
    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _curves(history, keys, labels, ylabel, title, path) -> Path:
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    epochs = history["epoch"]
    for key, label in zip(keys, labels):
        if key in history:
            values = [math.nan if v is None else float(v) for v in history[key]]
            ax.plot(epochs, values, marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_learning_curves(history, path) -> Path:
    """Train vs dev cost per epoch, saved as a PNG at ``path``."""
    return _curves(history, ("cost", "dev_cost"), ("train", "dev"), "cost J",
                   "Learning curves", path)


def plot_accuracy(history, path) -> Path:
    """Train vs dev accuracy per epoch, saved as a PNG at ``path``."""
    return _curves(history, ("accuracy", "dev_accuracy"), ("train", "dev"), "accuracy",
                   "Accuracy", path)


def plot_confusion_matrix(y_true, y_pred, path, n_classes: int | None = None,
                          class_names=None) -> Path:
    """The confusion matrix as an annotated heat map, saved as a PNG at ``path``."""
    from dlx.strategy.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, n_classes)
    k = cm.shape[0]
    names = [str(c) for c in (class_names or range(k))]
    fig = _figure((1.2 + 0.5 * k, 1.0 + 0.5 * k))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix (accuracy {cm.trace() / max(cm.sum(), 1):.2%})")
    threshold = cm.max() / 2
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > threshold else "black")
    return _save(fig, path)
