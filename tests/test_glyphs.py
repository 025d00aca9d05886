"""dlx.data.glyphs: printed characters rendered from matplotlib's fonts, as identities."""

import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("PIL")

from dlx.data.glyphs import GLYPH_FONTS, load_glyphs  # noqa: E402
from dlx.errors import ConfigError, DataError  # noqa: E402


def test_shapes_labels_and_order():
    X, y, font = load_glyphs("AB", per_font=3, size=16, seed=0)
    n = 2 * len(GLYPH_FONTS) * 3
    assert X.shape == (n, 1, 16, 16) and X.dtype == np.float32
    assert y.dtype == np.int64 and font.dtype == np.int64
    assert (y == np.repeat([0, 1], len(GLYPH_FONTS) * 3)).all()
    assert (font[:6] == [0, 0, 0, 1, 1, 1]).all() and font.max() == len(GLYPH_FONTS) - 1
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert (X.reshape(n, -1).max(axis=1) > 0.5).all()    # every image has ink
    corners = X[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners == 0).mean() > 0.9                 # background stays 0


def test_the_glyph_is_centred_and_spans_most_of_the_image():
    X, _, _ = load_glyphs("O", per_font=4, size=20, seed=3)
    ink = X[:, 0] > 0.25
    rows = np.array([np.flatnonzero(m.any(axis=1))[[0, -1]] for m in ink])
    cols = np.array([np.flatnonzero(m.any(axis=0))[[0, -1]] for m in ink])
    extent = np.maximum(rows[:, 1] - rows[:, 0], cols[:, 1] - cols[:, 0]) + 1
    assert 0.55 * 20 <= extent.min() and extent.max() <= 20      # about 80% of the side
    centre = np.concatenate([rows.mean(axis=1), cols.mean(axis=1)])
    assert np.abs(centre - 9.5).max() <= 3.0                     # shifts of at most ~1 px


def test_same_seed_same_images_and_distortions_differ():
    a, _, _ = load_glyphs("7", per_font=2, seed=5, fonts=GLYPH_FONTS[:3])
    b, _, _ = load_glyphs("7", per_font=2, seed=5, fonts=GLYPH_FONTS[:3])
    c, _, _ = load_glyphs("7", per_font=2, seed=6, fonts=GLYPH_FONTS[:3])
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.1
    assert np.abs(a[0] - a[1]).max() > 0.1     # two renderings of one font differ


def test_fonts_differ_more_than_nothing():
    X, _, font = load_glyphs("g", per_font=1, seed=0)
    flat = X.reshape(len(X), -1)
    d = ((flat[:, None] - flat[None]) ** 2).sum(axis=2)
    assert (d[np.triu_indices(len(X), 1)] > 0.5).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(chars="AA"), "distinct"),
    (dict(chars=""), "distinct"),
    (dict(chars="A", per_font=0), "per_font"),
    (dict(chars="A", per_font=1.5), "per_font"),
    (dict(chars="A", size=3), "size"),
    (dict(chars="A", fonts=()), "at least one font"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        load_glyphs(**kwargs)


def test_unknown_font_missing_glyph_and_blank_glyph_are_refused():
    with pytest.raises(DataError, match="no font 'Comic'"):
        load_glyphs("A", fonts=["Comic"])
    with pytest.raises(DataError, match="draws nothing for ' '"):
        load_glyphs(" ", fonts=GLYPH_FONTS[:1])
    with pytest.raises(DataError, match="'cmr10' has no glyph for 'Γ'"):
        load_glyphs("Γ", fonts=["cmr10"])     # would silently draw the .notdef box


def test_without_matplotlib_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"dlx\[train\]"):
        load_glyphs("A")
