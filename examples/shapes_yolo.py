"""A tiny YOLO detector trained end to end on synthetic shapes; mAP@0.5 on held-out images.

    python examples/shapes_yolo.py [--train 3000] [--test 500] [--epochs 12] [--seed 0]
                                   [--draw docs/vision_detections.png]

Data: dlx.data.shapes (64x64 RGB, 1-3 rectangles / circles / triangles on textured noise,
exact boxes). Model: four 3x3 conv + ReLU layers with 2x2 max pooling down to an 8x8 grid,
a 1x1 convolution giving A * (5 + 3) outputs per cell; A = 2 anchors (1.6 and 2.6 cells
square). Loss: dlx.vision.yolo.yolo_loss; decoding, score filtering (0.05 for AP) and
per-class NMS at IoU 0.5: dlx.vision.yolo.detect; mAP: dlx.vision.metrics (all-point AP).
"""

import argparse
import time

import numpy as np

import dlx.nn as nn
from dlx import backends
from dlx.core import Tensor, no_grad
from dlx.data.shapes import CLASSES, make_shapes
from dlx.optim.schedules import ExponentialDecay
from dlx.train import LRScheduler, fit
from dlx.vision import yolo
from dlx.vision.metrics import mean_average_precision

GRID, N_CLASSES = 8, len(CLASSES)
ANCHORS = np.array([[1.6, 1.6], [2.6, 2.6]])


def detector(n_anchors):
    return nn.Sequential(
        nn.Conv2D(3, 16, 3, padding="same", activation="relu"), nn.MaxPool2D(2),
        nn.Conv2D(16, 32, 3, padding="same", activation="relu"), nn.MaxPool2D(2),
        nn.Conv2D(32, 64, 3, padding="same", activation="relu"), nn.MaxPool2D(2),
        nn.Conv2D(64, 64, 3, padding="same", activation="relu"),
        nn.Conv2D(64, n_anchors * (5 + N_CLASSES), 1))


def predict(model, X, backend, batch=250):
    outs = []
    model.eval()
    with no_grad():
        for k in range(0, len(X), batch):
            outs.append(yolo.to_grid(model(Tensor(backend.asarray(X[k:k + batch]))),
                                     len(ANCHORS)).data)
    return backend.xp.concatenate(outs)


def draw(path, images, detections, truths):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, len(images), figsize=(2.2 * len(images), 2.4))
    colours = ("tab:red", "tab:cyan", "tab:orange")
    for ax, image, (boxes, scores, classes), (t_boxes, t_classes) in zip(axes, images,
                                                                          detections, truths):
        ax.imshow(image.transpose(1, 2, 0))
        for (x1, y1, x2, y2), c in zip(t_boxes[t_classes >= 0] * 64, t_classes[t_classes >= 0]):
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False,
                                   ec="white", lw=1, ls=":"))
        for (x1, y1, x2, y2), s, c in zip(boxes * 64, scores, classes):
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False,
                                   ec=colours[c], lw=1.5))
            ax.text(x1, y1 - 1, f"{CLASSES[c][:4]} {s:.2f}", color=colours[c], fontsize=6)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draw", default=None, help="write detections on 6 test images here")
    args = parser.parse_args()
    backend = backends.set_backend(args.backend)
    backend.seed(args.seed)
    X, B, C = make_shapes(args.train, seed=args.seed)
    Xt, Bt, Ct = make_shapes(args.test, seed=args.seed + 1000)
    start, cpu_start = time.perf_counter(), time.process_time()
    anchors = backend.asarray(ANCHORS, dtype=backend.default_dtype)
    targets = yolo.encode(backend.asarray(B), backend.asarray(C), GRID, anchors, N_CLASSES)
    model = detector(len(ANCHORS))
    history = fit(model, (X, targets), epochs=args.epochs, batch_size=32, lr=0.003,
                  loss=yolo.DetectionLoss(anchors),
                  callbacks=[LRScheduler(ExponentialDecay(0.003, 0.85))], verbose=False)
    train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    detections = yolo.detect(predict(model, Xt, backend), anchors, score_threshold=0.05,
                             iou_threshold=0.5)
    truths = [(Bt[i][Ct[i] >= 0], Ct[i][Ct[i] >= 0]) for i in range(args.test)]
    m_ap, aps = mean_average_precision(detections, truths, N_CLASSES, 0.5)
    print(f"{args.train} training images, {args.epochs} epochs: training {train_s:.1f} s wall, "
          f"{train_cpu:.1f} s CPU (backend {backend.name}, seed {args.seed}); final training loss "
          f"{history['cost'][-1]:.4f}")
    print(f"mAP@0.5 on {args.test} held-out images: {m_ap:.4f}  (" + ", ".join(
        f"{name} {ap:.3f}" for name, ap in zip(CLASSES, aps)) + ")")
    if args.draw:
        shown = [tuple(backend.to_host(a) for a in d) for d in detections[:6]]
        shown = [(b[s >= 0.5], s[s >= 0.5], c[s >= 0.5]) for b, s, c in shown]
        draw(args.draw, Xt[:6], shown, list(zip(Bt[:6], Ct[:6])))
        print(f"wrote {args.draw}")


if __name__ == "__main__":
    main()
