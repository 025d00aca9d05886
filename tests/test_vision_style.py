"""Style-transfer costs against NumPy references (gradient-checked), feature nets, `dlx style`."""

import numpy as np
import pytest

import dlx
from dlx.cli import main
from dlx.errors import ConfigError, ShapeError
from dlx.gradcheck import gradient_check
from dlx.vision.style import (FeatureNet, StyleTransfer, content_cost, gram_matrix,
                              layer_style_cost, style_cost)


@pytest.fixture
def float64(backend):
    previous, backend.default_dtype = backend.default_dtype, backend.xp.float64
    yield backend
    backend.default_dtype = previous


def test_costs_match_the_course_formulas(float64, rng):
    a_c, a_s, a_g = (rng.normal(size=(1, 3, 4, 5)) for _ in range(3))
    n = 3 * 4 * 5
    np.testing.assert_allclose(content_cost(a_c, a_g).item(), ((a_c - a_g) ** 2).sum() / (4 * n))
    A = a_g.reshape(3, -1)
    np.testing.assert_allclose(float64.to_host(gram_matrix(a_g).data), A @ A.T)
    S = a_s.reshape(3, -1)
    want = ((S @ S.T - A @ A.T) ** 2).sum() / (2 * n) ** 2
    np.testing.assert_allclose(layer_style_cost(a_s, a_g).item(), want)
    np.testing.assert_allclose(style_cost([a_s, a_s], [a_g, a_g], [0.25, 0.5]).item(), 0.75 * want)


def test_gram_and_style_costs_pass_the_gradient_check(float64, rng):
    a_c, a_s = (float64.asarray(rng.normal(size=(1, 2, 3, 3))) for _ in range(2))
    a_g = dlx.Tensor(float64.asarray(rng.normal(size=(1, 2, 3, 3))), requires_grad=True)
    assert gradient_check(lambda: gram_matrix(a_g), [a_g]) < 1e-7
    assert gradient_check(lambda: layer_style_cost(a_s, a_g), [a_g]) < 1e-7
    assert gradient_check(lambda: content_cost(a_c, a_g), [a_g]) < 1e-7


def test_shape_errors(backend):
    with pytest.raises(ShapeError, match="gram_matrix"):
        gram_matrix(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(ShapeError, match="content_cost: shapes"):
        content_cost(np.zeros((1, 3, 4, 4), np.float32), np.zeros((1, 3, 4, 5), np.float32))
    with pytest.raises(ConfigError, match="style_cost"):
        style_cost([np.zeros((1, 1, 2, 2))], [], [1.0])


def test_random_features_are_fixed_by_the_seed_and_frozen(backend):
    a, b = FeatureNet.random(seed=3), FeatureNet.random(seed=3)
    assert all(np.array_equal(p.to_numpy(), q.to_numpy())
               for p, q in zip(a.parameters(), b.parameters()))
    assert not any(p.requires_grad for p in a.parameters())
    acts = a(np.zeros((1, 3, 16, 16), np.float32))
    assert [t.shape[2] for t in acts] == [16, 8, 4, 2]


def test_npz_weights_take_the_same_path(backend, rng, tmp_path):
    arrays = {"conv0.W": rng.normal(size=(4, 3, 3, 3)), "conv0.b": rng.normal(size=4),
              "conv1.W": rng.normal(size=(5, 4, 3, 3)), "conv1.b": np.zeros(5),
              "pool_after": np.array([0])}
    path = tmp_path / "vgg.npz"
    np.savez(path, **arrays)
    net = FeatureNet.from_npz(path)
    x = rng.uniform(size=(1, 3, 8, 8)).astype(np.float32)
    acts = [t.to_numpy() for t in net(x)]
    ref0 = dlx.functional.relu(dlx.functional.conv2d(x, arrays["conv0.W"].astype(np.float32),
                                                     arrays["conv0.b"].astype(np.float32),
                                                     padding=1)).to_numpy()
    np.testing.assert_allclose(acts[0], ref0, rtol=1e-5, atol=1e-5)
    assert acts[1].shape == (1, 5, 4, 4)  # pooled after conv0
    np.savez(tmp_path / "bad.npz", W=np.zeros(3))
    with pytest.raises(ConfigError, match="conv0.W"):
        FeatureNet.from_npz(tmp_path / "bad.npz")


def test_a_short_run_lowers_the_style_cost(backend, rng):
    content = rng.uniform(size=(3, 16, 16)).astype(np.float32)
    style = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (3, 16, 1))
    transfer = StyleTransfer(FeatureNet.random(widths=(8, 16, 16), kernels=(3, 3, 3)),
                             content_layer=1, beta=10.0)
    image, history = transfer.run(content, style, steps=30, lr=0.05)
    assert image.shape == (3, 16, 16) and float(image.min()) >= 0 and float(image.max()) <= 1
    assert history[-1]["style"] < 0.5 * history[0]["style"]
    with pytest.raises(ConfigError, match="init"):
        transfer.run(content, style, steps=1, init="zeros")


def test_dlx_style_command_writes_the_image_and_the_cost_curve(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from dlx.data.images import save_image

    rng = np.random.default_rng(0)
    save_image(tmp_path / "c.png", rng.uniform(size=(3, 20, 24)))
    save_image(tmp_path / "s.png", rng.uniform(size=(3, 20, 20)))
    out = tmp_path / "out.png"
    assert main(["style", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "-o", str(out),
                 "--size", "12", "--steps", "3", "--no-progress"]) == 0
    assert out.is_file() and (tmp_path / "out_costs.png").is_file()
    assert "of the style image's own content cost" in capsys.readouterr().out
    assert main(["style", "nothere.png", "china", "-o", str(out)]) == 2


def test_content_distance_is_zero_for_equal_images(backend, rng):
    transfer = StyleTransfer(FeatureNet.random(widths=(4, 4), kernels=(3, 3)), content_layer=1)
    a, b = rng.uniform(size=(2, 3, 8, 8)).astype(np.float32)
    assert transfer.content_distance(a, a) == 0 and transfer.content_distance(a, b) > 0
