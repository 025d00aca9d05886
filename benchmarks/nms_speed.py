"""Vectorised NMS (dlx.vision.boxes.nms) against a greedy Python loop over boxes.

    python benchmarks/nms_speed.py [--n 200 1000 3000] [--repeat 3]

Random boxes in a 512x512 image, 3 classes, IoU threshold 0.5; prints the best of
``--repeat`` runs of each and checks they keep the same boxes.
"""

import argparse
import time

import numpy as np

from dlx.vision.boxes import box_iou, nms


def loop_nms(boxes, scores, thr, classes):
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if not kept:
            kept.append(i)
            continue
        same = [k for k in kept if classes[k] == classes[i]]
        if not same or box_iou(boxes[i:i + 1], boxes[same]).max() < thr:
            kept.append(i)
    return kept


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[200, 1000, 3000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'boxes':>6} {'vectorised ms':>14} {'loop ms':>10} {'speed-up':>9}")
    for n in args.n:
        xy = rng.uniform(0, 480, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(8, 64, (n, 2))], axis=1)
        scores, classes = rng.uniform(size=n), rng.integers(0, 3, n)
        t_vec, kept = best_time(lambda: nms(boxes, scores, 0.5, classes), args.repeat)
        t_loop, kept_loop = best_time(lambda: loop_nms(boxes, scores, 0.5, classes), args.repeat)
        assert kept.tolist() == kept_loop
        print(f"{n:>6} {1e3 * t_vec:>14.2f} {1e3 * t_loop:>10.2f} {t_loop / t_vec:>8.1f}x")


if __name__ == "__main__":
    main()
