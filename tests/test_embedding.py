"""Embedding: lookup, scatter-add backward equal to the dense one-hot formula, padding,
freezing, pretrained loading; gradient checks on every backend."""

import numpy as np
import pytest

import dlx
import dlx.functional as F
import dlx.nn as nn
from dlx.errors import ConfigError, DtypeError, ShapeError
from dlx.gradcheck import gradient_check
from dlx.text.io import load_vectors, save_vectors


pytestmark = pytest.mark.usefixtures("float64_default")  # exact formulas, gradient checks


def make_layer(backend, rng, V=7, d=3, **kwargs):
    layer = nn.Embedding(V, d, **kwargs)
    layer.weight.data = backend.asarray(rng.normal(size=(V, d)), layer.weight.dtype)
    if kwargs.get("padding_idx") is not None:
        layer.weight.data[kwargs["padding_idx"]] = 0
    return layer


def test_lookup_picks_rows(backend, rng):
    layer = make_layer(backend, rng)
    idx = np.array([[1, 4, 4], [0, 6, 1]])
    out = layer(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.to_numpy(), layer.weight.to_numpy()[idx])


def test_gradient_equals_the_dense_one_hot_formula(backend, rng):
    V, d = 9, 4
    layer = make_layer(backend, rng, V, d)
    idx = rng.integers(0, V, size=(5, 6))
    idx[0, :3] = 2  # repeated indices must be summed
    gy = rng.normal(size=(5, 6, d))
    layer(idx).backward(backend.asarray(gy))
    onehot = np.eye(V)[idx.reshape(-1)]              # (m*T, V): the course's o_w as rows
    dense = onehot.T @ gy.reshape(-1, d)             # dE = O^T dY
    np.testing.assert_allclose(backend.to_host(layer.weight.grad), dense, rtol=1e-12, atol=1e-12)


def test_gradient_check(backend, rng):
    layer = make_layer(backend, rng, 6, 3)
    idx = np.array([[0, 5, 5, 2], [3, 3, 1, 0]])
    w = dlx.Tensor(backend.asarray(rng.normal(size=(3, 2))))
    diff = gradient_check(lambda: F.tanh(layer(idx) @ w), [layer.weight])
    assert diff < 1e-7


def test_padding_row_starts_at_zero_and_gets_no_gradient(backend, rng):
    layer = nn.Embedding(5, 3, padding_idx=0)
    assert not np.any(layer.weight.to_numpy()[0])
    idx = np.array([[0, 1, 0, 2]])
    layer(idx).sum().backward()
    grad = backend.to_host(layer.weight.grad)
    assert not np.any(grad[0]) and np.all(grad[1] == 1) and np.all(grad[2] == 1)


def test_frozen_embedding_keeps_no_gradient_and_is_not_updated(backend, rng):
    layer = make_layer(backend, rng, frozen=True)
    before = layer.weight.to_numpy().copy()
    dense = nn.Dense(3, 1)
    (dense(layer(np.array([1, 2]))).sum()).backward()
    assert layer.weight.grad is None and dense.W.grad is not None
    dlx.optim.GradientDescent(layer.parameters() + dense.parameters(), lr=0.1).step()
    np.testing.assert_array_equal(layer.weight.to_numpy(), before)
    layer.unfreeze()
    layer(np.array([1])).sum().backward()
    assert layer.weight.grad is not None


def test_bad_indices_are_clear_errors(backend):
    layer = nn.Embedding(4, 2)
    with pytest.raises(ConfigError, match=r"\[0, 4\).*from -1 to 4"):
        layer(np.array([-1, 4]))
    with pytest.raises(DtypeError, match="integers"):
        layer(np.array([0.0, 1.0]))
    with pytest.raises(ConfigError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(ConfigError, match="positive"):
        nn.Embedding(0, 2)


def test_pretrained_from_glove_text_and_npz(backend, tmp_path):
    text = tmp_path / "vectors.txt"
    text.write_text("the 0.1 0.2 0.3\ncat -1 0 1\nsat 2 2 2\n")
    words, vectors = load_vectors(text)
    assert words == ["the", "cat", "sat"] and vectors.shape == (3, 3)
    header = tmp_path / "w2v.txt"
    header.write_text("3 3\n" + text.read_text())
    assert load_vectors(header)[0] == words
    npz = tmp_path / "vectors.npz"
    save_vectors(npz, words, backend.asarray(vectors))
    words2, vectors2 = load_vectors(npz)
    assert words2 == words
    np.testing.assert_array_equal(vectors2, vectors)
    layer = nn.Embedding.from_pretrained(vectors2)
    assert layer.frozen
    np.testing.assert_allclose(layer(np.array([1])).to_numpy(), [[-1, 0, 1]])


def test_bad_vector_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2\nb 1 2 3\n")
    with pytest.raises(ShapeError, match="line 2"):
        load_vectors(bad)
    npz = tmp_path / "x.npz"
    np.savez(npz, vectors=np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="'words'"):
        load_vectors(npz)


def test_numpy_scatter_add_equals_add_at(rng):
    from dlx.backends import get

    be = get("numpy")
    index = rng.integers(0, 6, size=40)
    values = rng.normal(size=(40, 3))
    target = rng.normal(size=(6, 3))
    expected = target.copy()
    np.add.at(expected, index, values)
    be.scatter_add(target, index, values)
    np.testing.assert_allclose(target, expected, rtol=1e-12, atol=1e-12)
    column = np.zeros(6)
    be.scatter_add(column, index, values[:, 0])  # 1-D values
    np.testing.assert_allclose(column, np.bincount(index, values[:, 0], minlength=6))
