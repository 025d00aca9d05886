"""Dense, activation layers, Sequential, initialisers and module state."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
import dlx.nn as nn
from dlx import init
from dlx.errors import CheckpointError, ConfigError
from dlx.gradcheck import gradient_check


def test_dense_uses_the_course_weight_shape(backend):
    layer = nn.Dense(5, 3, "relu")
    assert layer.W.shape == (3, 5) and layer.b.shape == (3,)
    out = layer(np.ones((7, 5), dtype=np.float32))
    assert out.shape == (7, 3) and out.dtype == np.float32


def test_dense_matches_the_formula(backend, rng):
    layer = nn.Dense(4, 3, "tanh")
    x = rng.normal(size=(6, 4)).astype(np.float32)
    W, b = backend.to_host(layer.W.data), backend.to_host(layer.b.data)
    expected = np.tanh(x @ W.T + b)
    np.testing.assert_allclose(backend.to_host(layer(backend.asarray(x)).data), expected,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "softmax",
                                        "linear", None])
def test_dense_gradient_check_for_every_activation(backend, rng, activation):
    layer = nn.Dense(3, 4, activation)
    for p in layer.parameters():
        p.data = p.data.astype(np.float64) + 0.1  # shift away from relu's kink at 0
    x = dlx.Tensor(backend.asarray(rng.uniform(0.2, 1.0, (5, 3))), requires_grad=True)
    diff = gradient_check(lambda: layer(x), layer.parameters() + [x])
    assert diff < 1e-7


@pytest.mark.parametrize("name,std", [("random_small", lambda i, o: 0.01),
                                      ("xavier", lambda i, o: np.sqrt(1 / i)),
                                      ("glorot", lambda i, o: np.sqrt(2 / (i + o))),
                                      ("he", lambda i, o: np.sqrt(2 / i))])
def test_initialiser_scales(backend, name, std):
    w = backend.to_host(init.get(name)((400, 300)))
    assert w.dtype == np.float32
    assert abs(w.std() / std(300, 400) - 1) < 0.02 and abs(w.mean()) < 0.01 * std(300, 400) + 1e-3


def test_zeros_initialiser(backend):
    assert not np.any(backend.to_host(init.zeros((3, 2))))


def test_default_initialiser_follows_the_activation():
    assert init.get("auto", "relu") is init.he
    assert init.get("auto", "leaky_relu") is init.he
    assert init.get("auto", "tanh") is init.xavier


def test_same_seed_same_weights(backend):
    backend.seed(3)
    a = backend.to_host(nn.Dense(4, 4).W.data)
    backend.seed(3)
    b = backend.to_host(nn.Dense(4, 4).W.data)
    backend.seed(4)
    c = backend.to_host(nn.Dense(4, 4).W.data)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_bad_layer_arguments_are_clear():
    with pytest.raises(ConfigError, match="unknown activation 'relux'"):
        nn.Dense(3, 4, "relux")
    with pytest.raises(ConfigError, match="unknown initialiser 'bogus'"):
        nn.Dense(3, 4, init_method="bogus")
    with pytest.raises(ConfigError, match="positive"):
        nn.Dense(0, 4)
    with pytest.raises(ConfigError, match="must be a Module"):
        nn.Sequential(nn.Dense(3, 4), "relu")


def test_wrong_input_width_names_the_expected_shape():
    with pytest.raises(dlx.ShapeError, match=r"expected \(m, 3\)"):
        nn.Dense(3, 4)(np.ones((2, 5), dtype=np.float32))


def test_state_dict_round_trip_and_names():
    model = nn.Sequential(nn.Dense(3, 4, "relu"), nn.Dense(4, 2))
    state = model.state_dict()
    assert list(state) == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]
    other = nn.Sequential(nn.Dense(3, 4, "relu"), nn.Dense(4, 2))
    other.load_state_dict(state)
    for a, b in zip(model.parameters(), other.parameters()):
        assert np.array_equal(a.to_numpy(), b.to_numpy())
    with pytest.raises(CheckpointError, match="missing"):
        other.load_state_dict({"layers.0.W": state["layers.0.W"]})


def test_train_eval_modes_propagate():
    model = nn.Sequential(nn.Dense(3, 4), nn.Sequential(nn.Dense(4, 2)))
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_activation_layers_match_functions(rng):
    x = rng.normal(size=(3, 4)).astype(np.float32)
    for layer, fn in [(nn.ReLU(), F.relu), (nn.Tanh(), F.tanh), (nn.Sigmoid(), F.sigmoid),
                      (nn.Softmax(), F.softmax), (nn.LeakyReLU(0.2),
                                                  lambda v: F.leaky_relu(v, 0.2))]:
        assert np.array_equal(layer(x).data, fn(x).data)


def test_saved_state_is_a_copy_that_later_updates_do_not_change():
    model = nn.Dense(2, 2)
    state = model.state_dict()
    saved = state["W"].copy()
    model.W.data += 1.0
    assert np.array_equal(state["W"], saved)
    model.load_state_dict(state)
    model.W.data += 1.0
    assert np.array_equal(state["W"], saved)
