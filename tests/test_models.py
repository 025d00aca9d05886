"""Model zoo: shapes, parameter counts, the registry, and errors."""

import numpy as np
import pytest

import dlx.nn as nn
from dlx.errors import ConfigError
from dlx.models import MODELS, build_model, lenet5, mlp, resnet


@pytest.mark.parametrize("name,shape", [("logreg", (30,)), ("mlp", (64,)), ("mlp", (1, 8, 8)),
                                        ("cnn", (1, 8, 8)), ("lenet5", (1, 32, 32)),
                                        ("lenet5", (1, 28, 28)), ("resnet", (1, 8, 8)),
                                        ("resnet", (3, 32, 32))])
def test_every_model_outputs_logits(backend, name, shape):
    model = build_model(name, shape, 10)
    out = model(np.zeros((2,) + shape, np.float32))
    assert out.shape == (2, 10) and out.dtype == np.float32


def test_logreg_is_binary_for_two_classes(backend):
    assert build_model("logreg", (5,), 2)(np.zeros((3, 5), np.float32)).shape == (3, 1)


def test_lenet5_follows_the_course_drawing(backend):
    model = lenet5((1, 32, 32), 10, modern=False)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "AvgPool2D", "Conv2D", "AvgPool2D", "Flatten", "Dense", "Dense",
                     "Dense"]
    assert model.layers[0].activation == "tanh"
    assert [model.layers[i].W.shape for i in (0, 2, 5, 6, 7)] == [
        (6, 1, 5, 5), (16, 6, 5, 5), (120, 400), (84, 120), (10, 84)]
    assert model.num_parameters() == 61706  # the classic ~60k
    modern = lenet5((1, 32, 32), 10)
    assert isinstance(modern.layers[1], nn.MaxPool2D) and modern.layers[0].activation == "relu"


def test_resnet_has_at_least_eight_convolutions(backend):
    model = resnet((1, 8, 8), 10)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2D)]
    blocks = [m for m in model.modules() if isinstance(m, nn.ResidualBlock)]
    assert len(convs) >= 8 and len(blocks) == 3
    assert sum(b.shortcut is not None for b in blocks) == 2


def test_mlp_uses_the_course_layer_dims(backend):
    model = mlp([4, 5, 3], "tanh")
    assert [layer.W.shape for layer in model.layers] == [(5, 4), (3, 5)]
    assert model.layers[0].activation == "tanh" and model.layers[1].activation is None


def test_registry_errors():
    assert set(MODELS) == {"logreg", "mlp", "cnn", "lenet5", "resnet", "vgg", "alexnet",
                           "inception"}
    with pytest.raises(ConfigError, match="unknown model"):
        build_model("vgg19", (1, 8, 8), 10)
    with pytest.raises(ConfigError, match=r"\(C, H, W\)"):
        build_model("cnn", (64,), 10)
    with pytest.raises(ConfigError, match="too small"):
        build_model("cnn", (1, 1, 1), 10)
    with pytest.raises(ConfigError, match="resnet"):
        build_model("resnet", (1, 8, 8), 10, depth=50)


def test_models_built_in_python_rebuild_from_their_checkpoint(tmp_path):
    from dlx.train import build_model as rebuild, load_checkpoint, save_checkpoint

    model = build_model("mlp", (64,), 10, hidden=(32, 16))
    assert model.config == {"name": "mlp", "input_shape": [64], "n_classes": 10,
                            "kwargs": {"hidden": (32, 16)}}
    save_checkpoint(tmp_path / "m.npz", model)
    again = rebuild(load_checkpoint(tmp_path / "m.npz"))
    x = np.random.default_rng(0).normal(size=(3, 64)).astype(np.float32)
    np.testing.assert_array_equal(model(x).to_numpy(), again(x).to_numpy())
