"""F.concat, the Inception module, classic builders, freezing/transfer and sliding windows."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
import dlx.nn as nn
from dlx.errors import ConfigError, DtypeError, ShapeError
from dlx.gradcheck import gradient_check
from dlx.models import alexnet, build_model, inception_net, vgg
from dlx.vision.sliding_windows import convolutionalize, window_stride
from opcheck import OpCase, run_op_checks


@pytest.fixture
def float64(backend):
    previous, backend.default_dtype = backend.default_dtype, backend.xp.float64
    yield backend
    backend.default_dtype = previous


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_matches_numpy_and_passes_gradient_check(backend, rng, axis):
    shapes = {0: [(2, 3, 2), (1, 3, 2), (3, 3, 2)], 1: [(2, 1, 2), (2, 3, 2), (2, 2, 2)],
              -1: [(2, 3, 1), (2, 3, 3), (2, 3, 2)]}[axis]
    case = OpCase(f"concat axis {axis}", lambda *ts: F.concat(list(ts), axis),
                  lambda *a: np.concatenate(a, axis=axis), shapes)
    run_op_checks(case, backend, rng)


def test_concat_gradient_skips_constant_inputs(backend):
    a = dlx.Tensor(backend.asarray(np.ones((2, 2))), requires_grad=True)
    b = dlx.Tensor(backend.asarray(np.ones((2, 3))))
    (F.concat([a, b], 1) * 2.0).sum().backward()
    assert b.grad is None and np.all(backend.to_host(a.grad) == 2.0)


def test_stack_adds_an_axis(backend):
    a, b = np.arange(6.0).reshape(2, 3), -np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(backend.to_host(F.stack([a, b], 1).data), np.stack([a, b], 1))


def test_concat_errors_name_the_problem():
    with pytest.raises(ShapeError, match="concat: shapes"):
        F.concat([np.zeros((2, 3)), np.zeros((3, 3))], axis=1)
    with pytest.raises(ConfigError, match="axis 2 is out of range"):
        F.concat([np.zeros((2, 3))], axis=2)
    with pytest.raises(DtypeError, match="concat: dtypes"):
        F.concat([dlx.Tensor(np.zeros(2, np.float32)),
                  dlx.Tensor(dlx.backends.current().asarray(np.zeros(2, np.float64)))])
    with pytest.raises(ConfigError, match="at least one"):
        F.concat([])


def test_inception_module_shapes_and_gradient_check(float64, rng):
    block = nn.Inception(2, 1, (2, 2), (1, 1), 1)
    for p in block.parameters():  # positive weights on positive inputs: every ReLU is active
        p.data = float64.asarray(rng.uniform(0.05, 0.5, p.shape))  # (no dead branch, no kink)
    x = dlx.Tensor(float64.asarray(rng.uniform(0.1, 1.0, (2, 2, 5, 5))), requires_grad=True)
    out = block(x)
    assert out.shape == (2, block.out_channels, 5, 5) and block.out_channels == 5
    # channel order: 1x1 branch first, then 3x3, 5x5, pool projection
    np.testing.assert_allclose(float64.to_host(out.data[:, :1]),
                               float64.to_host(block.branch1(x).data))
    assert gradient_check(lambda: block(x), block.parameters() + [x]) < 1e-7


def test_inception_rejects_bad_branch_spec():
    with pytest.raises(ConfigError, match="Inception: c3 and c5"):
        nn.Inception(3, 4, 8, (2, 4), 2)


@pytest.mark.parametrize("name,shape", [("vgg", (1, 8, 8)), ("alexnet", (3, 32, 32)),
                                        ("alexnet", (1, 8, 8)), ("inception", (1, 8, 8))])
def test_classic_builders_give_logits(name, shape):
    model = build_model(name, shape, 7)
    assert model(np.zeros((2,) + shape, np.float32)).shape == (2, 7)


def test_vgg_uses_only_3x3_same_convs_and_2x2_pools():
    model = vgg((3, 16, 16), 4, blocks=((8, 2), (16, 3)))
    convs = [m for m in model.layers if isinstance(m, nn.Conv2D)]
    pools = [m for m in model.layers if isinstance(m, nn.MaxPool2D)]
    assert len(convs) == 5 and all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    assert len(pools) == 2 and all(p.kernel_size == (2, 2) for p in pools)
    with pytest.raises(ConfigError, match="too small"):
        vgg((1, 2, 2), 3, blocks=((4, 1), (4, 1)))
    with pytest.raises(ConfigError, match="5 entries"):
        alexnet((1, 8, 8), 3, widths=(4, 4))


@pytest.mark.slow
def test_inception_net_learns_digits_briefly():
    """On the default backend only: the layers it uses are checked on every backend above."""
    from dlx.data.datasets import load_digits, train_dev_test_split

    dlx.backends.current().seed(0)

    X, y = load_digits(images=True)
    split = train_dev_test_split(X, y, test=0.2, seed=0)
    model = inception_net((1, 8, 8), 10, stem=8)
    model.fit((split.X_train[:800], split.y_train[:800]), epochs=6, batch_size=32, lr=0.01,
              verbose=False)
    assert model.evaluate((split.X_test, split.y_test))["accuracy"] >= 0.85


# -- freezing and transfer --------------------------------------------------------------------
def test_frozen_parameters_get_no_gradient_and_do_not_move(backend, rng):
    model = nn.Sequential(nn.Dense(4, 8, "relu"), nn.Dense(8, 3))
    nn.freeze(model.layers[0])
    frozen = [p.to_numpy().copy() for p in model.layers[0].parameters()]
    head = [p.to_numpy().copy() for p in model.layers[1].parameters()]
    X = rng.normal(size=(40, 4)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    out = model(X)
    F.softmax_cross_entropy(out, y).backward()
    assert all(p.grad is None for p in model.layers[0].parameters())
    assert all(p.grad is not None for p in model.layers[1].parameters())
    model.fit((X, y), epochs=2, verbose=False)
    for p, before in zip(model.layers[0].parameters(), frozen):
        np.testing.assert_array_equal(p.to_numpy(), before)
    assert any(not np.array_equal(p.to_numpy(), b)
               for p, b in zip(model.layers[1].parameters(), head))
    nn.unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())


def test_optimizer_skips_a_frozen_parameter_with_a_stale_gradient(backend):
    layer = nn.Dense(2, 2)
    opt = dlx.optim.Adam(layer.parameters(), lr=0.1)
    for p in layer.parameters():
        p.grad = backend.xp.ones_like(p.data)
    layer.W.requires_grad = False
    before = layer.W.to_numpy().copy()
    opt.step()
    np.testing.assert_array_equal(layer.W.to_numpy(), before)
    assert not np.array_equal(layer.b.to_numpy(), 0)


def test_fit_refuses_a_fully_frozen_model():
    model = nn.Sequential(nn.Dense(2, 2))
    nn.freeze(model)
    with pytest.raises(ConfigError, match="no parameters"):
        model.fit((np.zeros((4, 2), np.float32), np.zeros(4, np.int64)), epochs=1, verbose=False)


def test_transfer_from_a_loaded_checkpoint(tmp_path):
    from dlx.train import build_model as load_model
    from dlx.train import load_checkpoint, save_checkpoint

    base = build_model("cnn", (1, 8, 8), 5, channels=(4,), hidden=8)
    path = save_checkpoint(tmp_path / "base.npz", base)
    model = nn.replace_head(load_model(load_checkpoint(path)), nn.Dense(8, 3))
    nn.freeze(model.layers[:-1])
    x = np.random.default_rng(0).uniform(size=(2, 1, 8, 8)).astype(np.float32)
    body = nn.Sequential(*model.layers[:-1])
    np.testing.assert_allclose(body(x).to_numpy(),
                               nn.Sequential(*base.layers[:-1])(x).to_numpy(), rtol=1e-6)
    assert model(x).shape == (2, 3)
    assert [p.requires_grad for p in model.parameters()] == [False] * 4 + [True] * 2


def test_replace_head_and_cached_features(backend, rng):
    model = nn.Sequential(nn.Dense(4, 6, "relu"), nn.Dense(6, 5))
    head = nn.Dense(6, 2)
    assert nn.replace_head(model, head).layers[-1] is head
    body = nn.Sequential(*model.layers[:-1])
    X = rng.normal(size=(300, 4)).astype(np.float32)
    feats = nn.cached_features(body, X, batch_size=128)
    np.testing.assert_allclose(backend.to_host(feats), body(X).to_numpy(), rtol=1e-6)
    with pytest.raises(ConfigError, match="replace_head"):
        nn.replace_head(nn.Dense(2, 2), head)


# -- convolutional sliding windows --------------------------------------------------------------
def test_convolutional_sliding_windows_equal_the_crop_loop(float64, rng):
    # the course's example: 14x14x3 -> conv 5x5 (16) -> pool 2 -> FC 400 -> FC 400 -> 4
    model = nn.Sequential(nn.Conv2D(3, 16, 5, activation="relu"), nn.MaxPool2D(2), nn.Flatten(),
                          nn.Dense(400, 40, "relu"), nn.Dense(40, 4))
    conv = convolutionalize(model, (3, 14, 14))
    assert window_stride(conv) == 2
    image = rng.normal(size=(1, 3, 16, 16))
    scores = conv(image).to_numpy()
    assert scores.shape == (1, 4, 2, 2)
    for i in range(2):
        for j in range(2):
            crop = image[:, :, 2 * i: 2 * i + 14, 2 * j: 2 * j + 14]
            np.testing.assert_allclose(scores[:, :, i, j], model(crop).to_numpy(), rtol=1e-9)


def test_convolutionalize_needs_a_flatten():
    with pytest.raises(ConfigError, match="exactly one Flatten"):
        convolutionalize(nn.Sequential(nn.Conv2D(1, 2, 3)), (1, 5, 5))
