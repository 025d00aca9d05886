"""Inputs and runners shared by the kernel parity tests, the GPU tests and the sanitised run.

Each runner takes a backend and host (NumPy) inputs, runs the primitives, and returns the
outputs as host arrays, so two backends can be compared key by key.
"""

from __future__ import annotations

import numpy as np

DTYPES = (np.float32, np.float64)
#: relative tolerance of a kernel backend against the NumPy backend, per dtype
RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}

#: upstream gradient of the loss used by the softmax runs
GLOSS = 0.75

#: (x_shape, kernel, stride, padding): odd shapes on purpose
GEOMETRIES = {
    "3x3-pad1-nonsquare": ((2, 3, 7, 5), (3, 3), (1, 1), (1, 1)),
    "1x1-batch1": ((1, 1, 4, 4), (1, 1), (1, 1), (0, 0)),
    "stride>kernel": ((2, 2, 9, 7), (2, 3), (3, 4), (1, 2)),
    "pool2x2": ((3, 4, 8, 8), (2, 2), (2, 2), (0, 0)),
    "rect-kernel-pad2": ((1, 3, 5, 6), (3, 2), (2, 3), (2, 1)),
    "5x5-not-block-multiple": ((2, 5, 17, 13), (5, 5), (1, 1), (2, 2)),
    "overlapping-pool": ((2, 3, 9, 11), (3, 3), (2, 2), (1, 1)),
}

#: (m, k, labels, ignore_index, weighted)
SOFTMAX_CASES = {
    "one-row-one-class": (1, 1, [0], -100, False),
    "plain": (37, 5, None, -100, False),
    "ignored-rows": (300, 10, "ignore-some", -100, False),
    "ignore-index-in-range": (23, 4, None, 3, False),
    "weights": (41, 7, "ignore-some", -100, True),
    "all-ignored": (9, 3, "ignore-all", -1, False),
    "out-of-range-labels": (6, 4, [0, 4, 1, -5, 3, -100], -100, False),
    "block-per-row": (5, 1500, "ignore-some", -100, True),  # k > 1024: a block per row
}


def distinct_values(rng, shape, dtype):
    """Values without ties (max-pool tests need a unique maximum per window)."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) / n).reshape(shape).astype(dtype)


def window_outputs(be, x, geometry, seed=0) -> dict[str, np.ndarray]:
    """im2col, col2im, maxpool_fwd and maxpool_bwd on ``x`` (host) with one geometry."""
    _, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    cols = be.im2col(be.asarray(x), kernel, stride, padding)
    gcols = rng.standard_normal(cols.shape).astype(x.dtype)
    dx = be.col2im(be.asarray(gcols), x.shape, kernel, stride, padding)
    y, argmax = be.maxpool_fwd(be.asarray(x), kernel, stride, padding)
    gy = rng.standard_normal(y.shape).astype(x.dtype)
    dx_pool = be.maxpool_bwd(be.asarray(gy), argmax, x.shape, kernel, stride, padding)
    return {name: be.to_host(a) for name, a in
            dict(cols=cols, col2im=dx, pool=y, argmax=argmax, pool_bwd=dx_pool).items()}


def softmax_inputs(case, dtype, seed=0):
    """(z, t, weight, ignore_index) for one SOFTMAX_CASES entry."""
    m, k, labels, ignore_index, weighted = case
    rng = np.random.default_rng(seed)
    z = (3 * rng.standard_normal((m, k))).astype(dtype)
    if isinstance(labels, list):
        t = np.array(labels, dtype=np.int64)
    else:
        t = rng.integers(0, k, m)
        if labels == "ignore-some":
            t[rng.random(m) < 0.25] = ignore_index
        elif labels == "ignore-all":
            t[:] = ignore_index
    weight = rng.random(m).astype(dtype) if weighted else None
    return z, t, weight, ignore_index


def softmax_outputs(be, z, t, weight, ignore_index, gloss=None) -> dict[str, np.ndarray]:
    """softmax_ce_fwd then softmax_ce_bwd (with a device-side gloss) on host inputs."""
    w = None if weight is None else be.asarray(weight)
    zd = be.asarray(z)
    loss, lse, scale = be.softmax_ce_fwd(zd, be.asarray(t), ignore_index, w)
    g = be.asarray(np.asarray(GLOSS if gloss is None else gloss, dtype=z.dtype))
    dz = be.softmax_ce_bwd(zd, lse, be.asarray(t), scale, g, ignore_index)
    return {name: be.to_host(a) for name, a in
            dict(loss=loss, lse=lse, scale=scale, dz=dz).items()}


def operand_scale(outputs: dict) -> dict[str, np.ndarray]:
    """Magnitudes of the operands behind each output, where cancellation can occur.

    dz = (probs - onehot) * (scale * gloss): at the label, probs - 1 cancels when probs is
    close to 1, so a one-ulp difference in exp() becomes a large relative difference of dz.
    Its error is judged relative to the operands, |scale * gloss| per row.
    """
    if "dz" not in outputs:
        return {}
    return {"dz": np.abs(outputs["scale"] * GLOSS)[:, None]}


def assert_outputs_match(actual: dict, expected: dict, what: str = "") -> None:
    """Same keys, shapes and dtypes; values equal to RTOL relative to the value (or to the
    operands, see :func:`operand_scale`); NaN exactly where the reference has NaN."""
    assert actual.keys() == expected.keys()
    scales = operand_scale(expected)
    for key, ref in expected.items():
        got = actual[key]
        assert got.shape == ref.shape and got.dtype == ref.dtype, (what, key, got.shape, ref.shape)
        if ref.dtype.kind != "f":
            np.testing.assert_array_equal(got, ref, err_msg=f"{what} {key}")
            continue
        rtol = RTOL[ref.dtype]
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=f"{what} {key} NaNs")
        bound = rtol * np.maximum(np.abs(ref), scales.get(key, 0))
        bad = np.abs(got - ref) > bound
        assert not bad.any(), (f"{what} {key}: {bad.sum()} of {bad.size} values differ by more "
                               f"than {rtol} relative; first at {np.argwhere(bad)[0]}: "
                               f"{got[bad][0]!r} vs {ref[bad][0]!r}")
