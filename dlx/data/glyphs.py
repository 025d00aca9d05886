"""Printed characters as identities: glyphs rendered from the fonts matplotlib ships.

A stand-in for identity-labelled data (faces) with many identities: each character is an
identity, each rendering of it (21 font faces of the DejaVu Sans/Mono/Serif, STIX General and
Computer Modern families, times random distortions) one "photograph". Nothing is
downloaded: the fonts are read from the installed matplotlib package (the ``train`` extra)
and rasterised with Pillow (a matplotlib dependency).

Each image is drawn at 48 px, then mapped to ``size`` x ``size`` by a random affine map that
centres the glyph and scales the font's capital height (of "H") to 80% of the image, so that
"o" stays smaller than "O"; a glyph larger than that is shrunk until its larger side spans
80% (4x supersampled, box-filtered down). The map's random part:

    rotation ~ U(-12, 12) degrees, shear ~ U(-0.25, 0.25), scale per axis exp(U(-0.15, 0.15)),
    shift ~ U(-1, 1) output pixels per axis, and with probability 1/2 strokes thickened by a
    3x3 maximum filter at 48 px.

Values are ink coverage in [0, 1] (background 0). The same seed gives the same images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np  # host-side data preparation

from dlx.errors import ConfigError, DataError

GLYPH_FONTS = (
    "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
    "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique",
    "DejaVuSansMono-BoldOblique", "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic",
    "DejaVuSerif-BoldItalic", "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic",
    "STIXGeneralBolIta", "cmr10", "cmss10", "cmtt10", "cmti10", "cmb10")

_DRAW_PX = 48        # font size the glyph is drawn at
_SUPERSAMPLE = 4     # output pixels are box averages of 4x4 samples
_SPAN = 0.8          # the glyph's larger side spans this fraction of the image


def _imaging():
    try:
        import matplotlib
        from matplotlib.ft2font import FT2Font
        from PIL import Image, ImageDraw, ImageFilter, ImageFont
    except ImportError:
        raise ConfigError("load_glyphs renders the fonts matplotlib ships, with Pillow: "
                          "pip install 'dlx[train]'") from None
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf", FT2Font, Image, ImageDraw, \
        ImageFilter, ImageFont


def _draw(char, font, Image, ImageDraw):
    """The character in white on black in a Pillow font of size _DRAW_PX, on a canvas twice
    that size."""
    canvas = Image.new("L", (2 * _DRAW_PX, 2 * _DRAW_PX), 0)
    ImageDraw.Draw(canvas).text((_DRAW_PX // 2, _DRAW_PX // 2), char, fill=255, font=font)
    return canvas


def _extent(ink):
    """(larger side, centre (x, y)) of the bounding box of a 2-D bool ink mask."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    centre = np.array([(cols[0] + cols[-1]) / 2, (rows[0] + rows[-1]) / 2])
    return max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1, centre


def _affine_coefficients(ink, cap_height, size, rng):
    """Pillow AFFINE coefficients (output pixel -> source pixel) of one random distortion of
    the glyph whose ink mask is ``ink`` (2-D bool), onto a supersampled size x size image."""
    extent, centre = _extent(ink)
    scale = max(extent, cap_height) / (_SPAN * size)  # source pixels per output pixel
    theta = np.deg2rad(rng.uniform(-12.0, 12.0))
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    shear = np.array([[1.0, rng.uniform(-0.25, 0.25)], [0.0, 1.0]])
    stretch = np.diag(np.exp(-rng.uniform(-0.15, 0.15, size=2)))
    A = rotation @ shear @ stretch * scale
    offset = centre + rng.uniform(-1.0, 1.0, size=2) * scale - A @ np.full(2, size / 2)
    A = A / _SUPERSAMPLE
    return (A[0, 0], A[0, 1], offset[0], A[1, 0], A[1, 1], offset[1])


def load_glyphs(chars: str, per_font: int = 10, size: int = 16, seed: int = 0, fonts=None):
    """Distorted renderings of every character of ``chars`` in every font (every font must
    have a glyph for every character: the Computer Modern faces have no Greek, for example).

    Returns X (n, 1, size, size) float32 in [0, 1], y (n,) int64 (the index of the character
    in ``chars``) and font (n,) int64 (the index in ``fonts``, default GLYPH_FONTS), with
    n = len(chars) * len(fonts) * per_font, ordered by character, then font.
    """
    fonts = GLYPH_FONTS if fonts is None else tuple(fonts)
    if not chars or len(set(chars)) != len(chars):
        raise ConfigError(f"load_glyphs: chars must be distinct characters, got {chars!r}")
    if int(per_font) != per_font or per_font < 1 or int(size) != size or size < 4:
        raise ConfigError(f"load_glyphs: per_font must be an integer >= 1 and size one >= 4, "
                          f"got {per_font} and {size}")
    if not fonts:
        raise ConfigError("load_glyphs: fonts must name at least one font")
    font_dir, FT2Font, Image, ImageDraw, ImageFilter, ImageFont = _imaging()
    rng = np.random.default_rng(seed)
    hi = size * _SUPERSAMPLE
    X = np.empty((len(chars) * len(fonts) * int(per_font), 1, size, size), dtype=np.float32)
    faces = []  # (name, Pillow font, FreeType face, capital height), each opened once
    for name in fonts:
        path = font_dir / f"{name}.ttf"
        if not path.is_file():
            raise DataError(f"load_glyphs: matplotlib ships no font {name!r} "
                            f"(looked for {path}); choose from {GLYPH_FONTS}")
        font = ImageFont.truetype(str(path), _DRAW_PX)
        cap_height = _extent(np.asarray(_draw("H", font, Image, ImageDraw)) > 0)[0]
        faces.append((name, font, FT2Font(str(path)), cap_height))
    k = 0
    for char in chars:
        for name, font, face, cap_height in faces:
            if face.get_char_index(ord(char)) == 0:  # Pillow would draw the .notdef box
                raise DataError(f"load_glyphs: font {name!r} has no glyph for {char!r}")
            glyph = _draw(char, font, Image, ImageDraw)
            ink = np.asarray(glyph) > 0
            if not ink.any():
                raise DataError(f"load_glyphs: font {name!r} draws nothing for {char!r}")
            bold = glyph.filter(ImageFilter.MaxFilter(3))
            for _ in range(int(per_font)):
                coefficients = _affine_coefficients(ink, cap_height, size, rng)
                source = bold if rng.random() < 0.5 else glyph
                image = source.transform((hi, hi), Image.AFFINE, coefficients,
                                         resample=Image.BILINEAR)
                X[k, 0] = np.asarray(image.resize((size, size), Image.BOX)) / 255.0
                k += 1
    n_each = len(fonts) * int(per_font)
    y = np.repeat(np.arange(len(chars), dtype=np.int64), n_each)
    font = np.tile(np.repeat(np.arange(len(fonts), dtype=np.int64), int(per_font)), len(chars))
    return X, y, font
