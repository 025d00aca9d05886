"""The NumPy softmax cross-entropy primitive's two paths give the same bits.

When every label is a class and none is the ignore label, ``softmax_ce_fwd``/``bwd`` skip
the masking (a third fewer NumPy calls); the general path, which handles ignored rows and
NaN for out-of-range labels, must give exactly the same loss, lse, scale and gradient there.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlx.backends import numpy_primitives as prim

NO_IGNORE = -(2 ** 62)


def both_paths(monkeypatch, z, t, ignore, weight):
    got = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(prim, "_every_label_counts", lambda *args: False)
        loss, lse, scale = prim.softmax_ce_fwd(z, t, ignore, weight)
        dz = prim.softmax_ce_bwd(z, lse, t, scale, np.asarray(0.5, z.dtype), ignore)
        got.append((loss, lse, scale, dz))
    monkeypatch.undo()
    return got


@settings(max_examples=40, deadline=None, derandomize=True)
@given(m=st.integers(1, 9), k=st.integers(1, 7), seed=st.integers(0, 100),
       dtype=st.sampled_from(["float32", "float64"]), weighted=st.booleans(),
       ignore=st.sampled_from([NO_IGNORE, -100, 50]))
def test_the_unmasked_path_gives_the_general_paths_bits(m, k, seed, dtype, weighted, ignore):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(m, k)).astype(dtype) * 3
    t = rng.integers(0, k, m)
    weight = rng.uniform(0.1, 2, m) if weighted else None
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, general = both_paths(monkeypatch, z, t, ignore, weight)
    assert prim._every_label_counts(t, k, ignore)
    for a, b in zip(fast, general):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_an_ignored_class_or_a_label_out_of_range_takes_the_general_path():
    t = np.array([0, 2, 1])
    assert prim._every_label_counts(t, 3, NO_IGNORE)
    assert not prim._every_label_counts(t, 3, 2)  # label 2 is ignored: its row is masked
    assert prim._every_label_counts(t, 3, 5)  # an ignore label no row carries
    assert not prim._every_label_counts(np.array([0, 3]), 3, NO_IGNORE)
    assert not prim._every_label_counts(np.array([-1, 0]), 3, NO_IGNORE)
    assert not prim._every_label_counts(np.array([], dtype=np.int64), 3, NO_IGNORE)
    z = np.zeros((2, 3))
    loss, lse, scale = prim.softmax_ce_fwd(z, np.array([0, 3]), NO_IGNORE)
    assert np.isnan(loss)
    dz = prim.softmax_ce_bwd(z, lse, np.array([0, 3]), scale, np.asarray(1.0), NO_IGNORE)
    assert np.isnan(dz[1]).all() and np.isfinite(dz[0]).all()
