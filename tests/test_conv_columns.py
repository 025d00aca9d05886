"""The NumPy backend's phase-row column layout against the im2col layout (the contract's
primitives), and the buffer pool behind its workspaces.

The phase-row layout's backward has three code paths: stride 1 with >= 16 input channels
and the columns not kept (dx and dW through the transposed convolution), stride 1 with
fewer channels or kept columns, and any stride >= 2 (dx added back through the phases).
Each is compared in float64 with the im2col layout on forward, dW and dx, and once through
F.conv2d against a direct loop."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlx
import dlx.functional as F
from dlx.backends import conv_columns
from dlx.backends.buffer_pool import BufferPool
from dlx.backends.conv_columns import ADJOINT_MIN_CHANNELS, Im2colColumns, PhaseRowColumns
from dlx.backends.numpy_backend import NumpyBackend


def run_layout(layout, x, w, b, gz):
    """(z, dW, dx) of one chunk through ``layout``: backward once from the kept columns and
    once from x (the transposed-convolution path where the layout has one)."""
    k = w.shape[0]
    z = np.empty((x.shape[0], k, layout.oh, layout.ow))
    cols = layout.columns(x)
    layout.output(layout.matmul(w.reshape(k, -1), cols), b, z)
    dx_cols, dx_x = np.empty_like(x), np.empty_like(x)
    dw_cols = layout.gradients(w, gz, dx_cols, cols=cols)
    dw_x = layout.gradients(w, gz, dx_x, x=x)
    np.testing.assert_allclose(dw_x, dw_cols, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx_x, dx_cols, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layout.gradients(w, gz, x=x), dw_cols, rtol=1e-12, atol=1e-12)
    return z, dw_cols.T.reshape(w.shape), dx_x


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(c=st.sampled_from([1, 3, ADJOINT_MIN_CHANNELS, 17]), h=st.integers(1, 9),
       w=st.integers(1, 9), fh=st.integers(1, 4), fw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 3), pw=st.integers(0, 3))
def test_phase_rows_equal_im2col(c, h, w, fh, fw, sh, sw, ph, pw):
    backend = NumpyBackend()
    if fh < sh or fw < sw or h + 2 * ph < fh or w + 2 * pw < fw:
        return  # a layout the backend never picks, or a window that does not fit
    rng = np.random.default_rng(h * 100 + w)
    x, wt = rng.normal(size=(2, c, h, w)), rng.normal(size=(3, c, fh, fw))
    b = rng.normal(size=3)
    args = (x.shape, (fh, fw), (sh, sw), (ph, pw))
    ref_layout, layout = Im2colColumns(backend, *args), PhaseRowColumns(backend, *args)
    gz = rng.normal(size=(2, 3, ref_layout.oh, ref_layout.ow))
    for got, want in zip(run_layout(layout, x, wt, b, gz), run_layout(ref_layout, x, wt, b, gz)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride,padding", [(1, 1), (1, 0), (1, (2, 0)), (2, 1)])
@pytest.mark.parametrize("chunked", [False, True], ids=["kept-columns", "per-sample-chunks"])
def test_conv2d_wide_input_matches_loops(backend, rng, monkeypatch, stride, padding, chunked):
    """16 channels (on NumPy: the transposed-convolution gradients at stride 1 when the
    columns are not kept), via F.conv2d."""
    if chunked:
        monkeypatch.setattr(backend, "conv_chunk_bytes", 1)
    x = rng.normal(size=(2, ADJOINT_MIN_CHANNELS, 6, 5))
    w, b = rng.normal(size=(2, ADJOINT_MIN_CHANNELS, 3, 3)), rng.normal(size=2)
    s, (ph, pw) = stride, (padding, padding) if isinstance(padding, int) else padding
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (xpad.shape[2] - 3) // s + 1, (xpad.shape[3] - 3) // s + 1
    z_ref = np.zeros((2, 2, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xpad[:, :, i * s:i * s + 3, j * s:j * s + 3]
            z_ref[:, :, i, j] = np.einsum("ncij,kcij->nk", win, w) + b
    gz = rng.normal(size=z_ref.shape)
    dx_ref = np.zeros_like(xpad)
    for i in range(oh):
        for j in range(ow):
            dx_ref[:, :, i * s:i * s + 3, j * s:j * s + 3] += np.einsum("nk,kcij->ncij",
                                                                      gz[:, :, i, j], w)
    xt = dlx.Tensor(backend.asarray(x), requires_grad=True)
    wt = dlx.Parameter(backend.asarray(w))
    z = F.conv2d(xt, wt, dlx.Parameter(backend.asarray(b)), stride=stride, padding=padding)
    np.testing.assert_allclose(backend.to_host(z.data), z_ref, rtol=1e-10, atol=1e-10)
    windows = np.stack([np.stack([xpad[:, :, i * s:i * s + 3, j * s:j * s + 3]
                                  for j in range(ow)], 2) for i in range(oh)], 2)
    dw_ref = np.einsum("nkij,ncijpq->kcpq", gz, windows)  # windows (n, c, oh, ow, 3, 3)
    z.backward(backend.asarray(gz))
    np.testing.assert_allclose(backend.to_host(xt.grad), dx_ref[:, :, ph:ph + 6, pw:pw + 5],
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(backend.to_host(wt.grad), dw_ref, rtol=1e-10, atol=1e-10)


def test_pool_reuses_a_buffer_only_when_every_view_is_gone():
    pool = BufferPool(min_bytes=16, max_bytes=1 << 20)
    a = pool.empty((4, 4), np.float32)
    view = a.T[1:]  # derived view: keeps the buffer in use after `a` is gone
    del a
    b = pool.empty((4, 4), np.float32)
    assert not np.shares_memory(b, view)
    del view
    c = pool.empty((16,), np.float32)  # same size: the first buffer, free again
    assert pool.pooled_bytes() == 128
    assert not np.shares_memory(b, c)
    assert pool.empty((2,), np.float32).base is None  # below min_bytes: plain np.empty


def test_pool_drops_free_buffers_past_its_limit():
    pool = BufferPool(min_bytes=16, max_bytes=256)
    for _ in range(3):
        pool.empty((32,), np.float32)  # 128 bytes each, released at once
    kept = [pool.empty((48,), np.float32) for _ in range(2)]  # 192 bytes each
    assert pool.pooled_bytes() == 2 * 192  # the free 128-byte buffer was dropped
    assert not np.shares_memory(*kept)


def test_pool_release_frees_only_the_buffers_nothing_uses():
    pool = BufferPool(min_bytes=16, max_bytes=1 << 20)
    kept = pool.empty((8,), np.float32)
    pool.empty((16,), np.float32)  # released at once
    assert pool.pooled_bytes() == 32 + 64
    pool.release_free()
    assert pool.pooled_bytes() == 32
    kept[:] = 1  # still its own buffer
    assert not np.shares_memory(kept, pool.empty((8,), np.float32))


def test_a_chunked_convolution_leaves_no_free_workspace_behind(rng, monkeypatch, numpy_columns):
    backend = dlx.backends.get("numpy")
    monkeypatch.setattr(backend, "conv_chunk_bytes", 64 << 10)  # several chunks
    x = dlx.Tensor(rng.normal(size=(16, 8, 32, 32)).astype(np.float32), requires_grad=True)
    w = dlx.Parameter(rng.normal(size=(8, 8, 3, 3)).astype(np.float32))
    with dlx.backends.use(backend):
        z = F.conv2d(x, w, None, 1, 1)
        assert conv_columns._workspace.pooled_bytes() == 0  # columns rebuilt, not kept
        z.backward(np.ones(z.shape, np.float32))
    assert conv_columns._workspace.pooled_bytes() == 0
