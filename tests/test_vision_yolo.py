"""YOLO encoding round trip, YOLO / localisation / landmark losses (gradient-checked), detect."""

import numpy as np
import pytest

import dlx
from dlx.errors import ConfigError, ShapeError
from dlx.gradcheck import gradient_check
from dlx.vision import yolo
from dlx.vision.localization import landmark_loss, localization_loss

ANCHORS = np.array([[1.0, 1.0], [2.5, 1.2], [1.2, 2.5]])


def random_objects(rng, m=6, n_max=4, grid=4):
    """Boxes with midpoints in distinct cells (so no (cell, anchor) collision), some padding."""
    boxes = np.zeros((m, n_max, 4))
    classes = np.full((m, n_max), -1)
    for i in range(m):
        cells = rng.permutation(grid * grid)[:rng.integers(0, n_max + 1)]
        for k, cell in enumerate(cells):
            cx, cy = (cell % grid + rng.uniform(0.05, 0.95)) / grid, \
                (cell // grid + rng.uniform(0.05, 0.95)) / grid
            w, h = rng.uniform(0.05, 0.6, 2)
            boxes[i, k] = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
            classes[i, k] = rng.integers(0, 3)
    return boxes, classes


def test_encode_decode_round_trips_to_the_original_boxes(backend, rng):
    boxes, classes = random_objects(rng)
    target = yolo.encode(backend.asarray(boxes), backend.asarray(classes), 4,
                         backend.asarray(ANCHORS), 3)
    assert target.shape == (6, 4, 4, 3, 8)
    dec_boxes, scores, dec_classes = (backend.to_host(a) for a in
                                      yolo.decode(target, backend.asarray(ANCHORS), False))
    for i in range(6):
        valid = classes[i] >= 0
        found = scores[i] == 1
        assert found.sum() == valid.sum()
        got = sorted(zip(dec_boxes[i][found].round(9).tolist(), dec_classes[i][found].tolist()))
        want = sorted(zip(boxes[i][valid].round(9).tolist(), classes[i][valid].tolist()))
        assert len(got) == len(want)
        for (gb, gc), (wb, wc) in zip(got, want):
            np.testing.assert_allclose(gb, wb, atol=1e-9)
            assert gc == wc


def test_encode_picks_the_anchor_with_the_best_shape_iou(backend):
    # w 0.25, h 0.6 of the image = (1.0, 2.4) cells on a 4x4 grid; shape IoUs with the
    # anchors: 1/2.4, 0.48/3.92, 2.4/3 -> the tall anchor 2
    tall = np.array([[[0.35, 0.1, 0.6, 0.7]]])
    target = backend.to_host(yolo.encode(backend.asarray(tall), backend.asarray(np.array([[1]])),
                                         4, backend.asarray(ANCHORS), 3))
    cell = target[0, 1, 1]  # midpoint (0.475, 0.4) -> (1.9, 1.6) cells: row 1, col 1
    assert cell[:, 0].tolist() == [0, 0, 1]
    np.testing.assert_allclose(cell[2, 1:5], [0.9, 0.6, 1.0, 2.4], atol=1e-12)


@pytest.fixture
def float64(backend):
    previous, backend.default_dtype = backend.default_dtype, backend.xp.float64
    yield backend
    backend.default_dtype = previous


def test_yolo_loss_passes_the_gradient_check(float64, rng):
    boxes, classes = random_objects(rng, m=2, n_max=2, grid=2)
    anchors = float64.asarray(ANCHORS[:2])
    target = yolo.encode(float64.asarray(boxes), float64.asarray(classes), 2, anchors, 2 + 1)
    pred = dlx.Tensor(float64.asarray(rng.normal(0, 0.5, target.shape)), requires_grad=True)
    loss = yolo.yolo_loss(pred, target, anchors)
    assert loss.shape == () and float(loss.item()) > 0
    assert gradient_check(lambda: yolo.yolo_loss(pred, target, anchors), [pred]) < 1e-7


def test_yolo_loss_is_small_at_the_encoded_answer(float64, rng):
    boxes, classes = random_objects(rng)
    anchors = float64.asarray(ANCHORS)
    target = yolo.encode(float64.asarray(boxes), float64.asarray(classes), 4, anchors, 3)
    t = float64.to_host(target)
    logit = lambda p: np.log(np.clip(p, 1e-9, 1 - 1e-9) / (1 - np.clip(p, 1e-9, 1 - 1e-9)))
    ideal = np.zeros_like(t)
    ideal[..., 0] = np.where(t[..., 0] > 0, 30, -30)
    ideal[..., 1:3] = logit(t[..., 1:3])
    ideal[..., 3:5] = np.log(np.where(t[..., :1] > 0, t[..., 3:5], ANCHORS) / ANCHORS)
    ideal[..., 5:] = 30 * t[..., 5:]
    assert yolo.yolo_loss(float64.asarray(ideal), target, anchors).item() < 1e-6
    assert yolo.yolo_loss(float64.asarray(np.zeros_like(t)), target, anchors).item() > 1


def test_detect_finds_a_confident_box_and_suppresses_its_twin(backend):
    anchors = backend.asarray(ANCHORS[:1])
    pred = np.full((1, 2, 2, 1, 7), -10.0)
    pred[..., 5:] = 0
    pred[0, 0, 0, 0, :5] = [5, 0, 0, 0, 0]   # centre (0.25, 0.25), 1x1 cell = 0.5 of the image
    pred[0, 0, 1, 0, :5] = [4, -3, 0, 0.3, 0]  # overlapping neighbour, same class, lower score
    pred[0, 0, 0, 0, 5] = pred[0, 0, 1, 0, 5] = 5
    (boxes, scores, classes), = yolo.detect(backend.asarray(pred), anchors, 0.3, 0.3)
    assert backend.to_host(classes).tolist() == [0]
    np.testing.assert_allclose(backend.to_host(boxes)[0], [0, 0, 0.5, 0.5], atol=1e-9)


def test_localization_and_landmark_losses_pass_the_gradient_check(float64, rng):
    y = np.zeros((4, 8))
    y[:2, 0] = 1
    y[:2, 1:5] = rng.uniform(0, 1, (2, 4))
    y[0, 5 + 1] = y[1, 5 + 2] = 1
    z = dlx.Tensor(float64.asarray(rng.normal(size=(4, 8))), requires_grad=True)
    assert gradient_check(lambda: localization_loss(z, y, 3), [z]) < 1e-7
    # with no object only the p_c term counts: changing box/class outputs changes nothing
    z2 = float64.to_host(z.data).copy()
    z2[2:, 1:] += 5
    change = localization_loss(z2, y, 3).item() - localization_loss(z, y, 3).item()
    np.testing.assert_allclose(change, 0, atol=1e-12)
    pred = dlx.Tensor(float64.asarray(rng.normal(size=(3, 6))), requires_grad=True)
    target, present = rng.normal(size=(3, 6)), np.array([1.0, 0.0, 1.0])
    assert gradient_check(lambda: landmark_loss(pred, target, present), [pred]) < 1e-7
    want = ((float64.to_host(pred.data) - target) ** 2)[[0, 2]].sum() / 3
    np.testing.assert_allclose(landmark_loss(pred, target, present).item(), want)


def test_errors_name_the_problem(backend):
    with pytest.raises(ConfigError, match="anchors must be"):
        yolo.encode(backend.asarray(np.zeros((1, 1, 4))), backend.asarray(np.zeros((1, 1), int)),
                    2, backend.asarray(np.zeros((2, 3))), 2)
    with pytest.raises(ShapeError, match="yolo_loss"):
        yolo.yolo_loss(backend.asarray(np.zeros((1, 2, 2, 1, 7))), np.zeros((1, 2, 2, 1, 6)),
                       backend.asarray(ANCHORS[:1]))
    with pytest.raises(ShapeError, match="localization_loss"):
        localization_loss(np.zeros((2, 7)), np.zeros((2, 7)), 3)


def test_to_grid_reorders_channels(backend):
    out = backend.asarray(np.arange(2 * 2 * 7 * 3 * 3, dtype=float).reshape(2, 14, 3, 3))
    g = yolo.to_grid(dlx.Tensor(out), 2)
    assert g.shape == (2, 3, 3, 2, 7)
    assert float(g.data[1, 2, 0, 1, 4]) == float(out[1, 7 + 4, 2, 0])


def _tiny_detector(n_anchors, n_classes):
    return dlx.nn.Sequential(dlx.nn.Conv2D(1, 8, 3, padding="same", activation="relu"),
                             dlx.nn.MaxPool2D(2),
                             dlx.nn.Conv2D(8, n_anchors * (5 + n_classes), 1))


def test_fit_trains_a_detector_on_grid_targets_with_the_detection_loss(rng):
    """fit takes (m, S, S, A, 5+K) targets for (m, A*(5+K), S, S) outputs when the loss
    checks target shapes itself (``checks_target_shape``), and the loss goes down."""
    from dlx.train import fit

    backend = dlx.backends.get("numpy")
    anchors = np.array([[1.0, 1.0], [2.0, 1.0]], np.float32)
    boxes, classes = random_objects(rng, m=24, grid=4)
    x = rng.normal(size=(24, 1, 8, 8)).astype(np.float32)
    targets = yolo.encode(boxes, classes, 4, anchors, 3)
    loss = yolo.DetectionLoss(anchors)
    with dlx.backends.use(backend):
        backend.seed(0)
        history = fit(_tiny_detector(2, 3), (x, targets), epochs=4, batch_size=8, lr=0.01,
                      loss=loss, verbose=False)
    assert history["cost"][-1] < history["cost"][0]
    with pytest.raises(ShapeError, match="yolo_loss: predictions"):  # its own shape check
        with dlx.backends.use(backend):
            fit(_tiny_detector(2, 3), (x, targets[..., :7]), epochs=1, loss=loss,
                verbose=False)


def test_fit_still_refuses_mismatched_targets_for_a_loss_that_does_not_check_them(rng):
    from dlx.train import fit

    anchors = np.array([[1.0, 1.0]], np.float32)
    boxes, classes = random_objects(rng, m=8, grid=4)
    targets = yolo.encode(boxes, classes, 4, anchors, 3)
    x = rng.normal(size=(8, 1, 8, 8)).astype(np.float32)
    plain = lambda out, t: yolo.yolo_loss(yolo.to_grid(out, 1), t, anchors)  # noqa: E731
    with dlx.backends.use("numpy"):
        with pytest.raises(ShapeError, match="targets of shape .* do not fit outputs"):
            fit(_tiny_detector(1, 3), (x, targets), epochs=1, loss=plain, verbose=False)
