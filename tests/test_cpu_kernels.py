"""The NumPy backend's compiled CPU kernels (kernels/direct_conv.cpp, kernels/batch_norm.cpp).

float32 results are compared with independent float64 references (an einsum over the
kernel windows for the convolution, the course's formulas in NumPy for batch norm), over
hypothesis-drawn geometries; the code paths of other vector widths (AVX2's 8 lanes, SSE's 4)
are built for this machine and checked the same way; the thread split, the policy variable,
the fallback without a compiler, fork safety and the sanitisers are checked too.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dlx
import dlx.backends as B
import dlx.functional as F
from dlx.backends import cpu_kernels
from dlx.backends.batch_norm_kernels import CompiledBatchNorm
from dlx.backends.conv_columns import Im2colColumns, PhaseRowColumns
from dlx.backends.direct_conv import DirectConv
from dlx.errors import BackendUnavailableError, ConfigError

pytestmark = pytest.mark.skipif(cpu_kernels.find_compiler() is None,
                                reason="the compiled CPU kernels need a C++ compiler")


@pytest.fixture
def native(monkeypatch):
    """float32 work on the NumPy backend must run compiled (a build failure fails the test)."""
    monkeypatch.setenv("DLX_CPU_KERNELS", "native")
    with B.use("numpy") as backend:
        yield backend


def conv_reference(x, w, b, stride, padding, gz):
    """float64 z, dx, dw, db by an einsum over every kernel window (no dlx code)."""
    x, w, gz = x.astype(np.float64), w.astype(np.float64), gz.astype(np.float64)
    (sh, sw), (ph, pw) = stride, padding
    n, c, h, wd = x.shape
    k, _, fh, fw = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - fh) // sh + 1, (wd + 2 * pw - fw) // sw + 1
    windows = np.lib.stride_tricks.sliding_window_view(xpad, (fh, fw), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw][:, :, :oh, :ow]
    z = np.einsum("nchwij,kcij->nkhw", windows, w) + b[None, :, None, None]
    dw = np.einsum("nchwij,nkhw->kcij", windows, gz)
    dxpad = np.zeros_like(xpad)
    for i in range(fh):
        for j in range(fw):
            dxpad[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += np.einsum("nkhw,kc->nchw", gz,
                                                                         w[:, :, i, j])
    return z, dxpad[:, :, ph:ph + h, pw:pw + wd], dw, gz.sum(axis=(0, 2, 3))


def assert_close(got, want, what):
    scale = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(got - want).max()) / scale
    assert err < 2e-5, f"{what}: max error {err:.2e} of the scale {scale:.3g}"


def run_conv(x, w, b, stride, padding, gz):
    xt = dlx.Tensor(x, requires_grad=True)
    wt, bt = dlx.Parameter(w), dlx.Parameter(b)
    z = F.conv2d(xt, wt, bt, stride, padding)
    z.backward(gz)
    return z.data, xt.grad, wt.grad, bt.grad


@st.composite
def geometries(draw):
    fh, fw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, fh)), draw(st.integers(0, fw))
    h = draw(st.integers(max(1, fh - 2 * ph), 12))
    w = draw(st.integers(max(1, fw - 2 * pw), 12))
    return (draw(st.integers(1, 3)), draw(st.integers(1, 7)), h, w, draw(st.integers(1, 9)),
            (fh, fw), (sh, sw), (ph, pw))


@settings(max_examples=60, deadline=None)
@given(geometries(), st.integers(0, 2**32 - 1))
def test_compiled_conv_matches_the_float64_reference(geometry, seed):
    n, c, h, wd, k, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, c, h, wd)).astype(np.float32)
    w = rng.normal(size=(k, c, *kernel)).astype(np.float32)
    b = rng.normal(size=k).astype(np.float32)
    oh = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    ow = (wd + 2 * padding[1] - kernel[1]) // stride[1] + 1
    gz = rng.normal(size=(n, k, oh, ow)).astype(np.float32)
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DLX_CPU_KERNELS", "native")
        with B.use("numpy"):
            assert isinstance(B.current().conv_columns(x.shape, kernel, stride, padding,
                                                       np.float32), DirectConv)
            got = run_conv(x, w, b, stride, padding, gz)
    for name, g, r in zip(("z", "dx", "dw", "db"), got, conv_reference(x, w, b, stride, padding,
                                                                        gz)):
        assert g.dtype == np.float32
        assert_close(g, r, name)


@pytest.mark.parametrize("shape, k, f, s, p", [
    ((5, 16, 32, 32), 32, 3, 1, 1),   # the bench row's layer, per thread
    ((6, 32, 16, 16), 64, 3, 2, 1),   # ResNet's stride-2 block
    ((6, 64, 8, 8), 64, 3, 1, 1),     # its 8x8 block
    ((7, 16, 32, 32), 32, 1, 2, 0),   # its projection shortcut
    ((4, 6, 28, 28), 16, 5, 1, 0),    # LeNet-5's second convolution
    ((9, 160, 7, 7), 96, 3, 1, 1),    # wide: float dW sums (lanes > 8 MiB), 3 sample groups
])
def test_compiled_conv_matches_on_network_layers_and_thread_counts(native, rng, shape, k, f, s,
                                                                   p, monkeypatch):
    x = rng.normal(size=shape).astype(np.float32)
    w = (rng.normal(size=(k, shape[1], f, f)) / f).astype(np.float32)
    b = rng.normal(size=k).astype(np.float32)
    oh = (shape[2] + 2 * p - f) // s + 1
    gz = rng.normal(size=(shape[0], k, oh, oh)).astype(np.float32)
    want = conv_reference(x, w, b, (s, s), (p, p), gz)
    monkeypatch.setattr("dlx.backends.cpu_threads.SPLIT_MIN_BYTES", 0)  # always threads
    results = {}
    for workers in (1, 2, 3):
        monkeypatch.setattr(native, "parallel_workers", lambda workers=workers: workers)
        results[workers] = run_conv(x, w, b, (s, s), (p, p), gz)
        for name, g, r in zip(("z", "dx", "dw", "db"), results[workers], want):
            assert_close(g, r, f"{name} with {workers} threads")
    for workers in (2, 3):  # z and dx: every sample on its own, whatever the split
        np.testing.assert_array_equal(results[workers][0], results[1][0])
        np.testing.assert_array_equal(results[workers][1], results[1][1])
    again = run_conv(x, w, b, (s, s), (p, p), gz)
    for first, second in zip(results[3], again):  # the same bits, call after call
        np.testing.assert_array_equal(first, second)


def test_compiled_conv_takes_non_contiguous_input_and_leaves_it_untouched(native, rng):
    base = rng.normal(size=(3, 4, 9, 10)).astype(np.float32)
    x = base.transpose(0, 1, 3, 2)  # (3, 4, 10, 9), not C-contiguous
    w = rng.normal(size=(5, 4, 3, 3)).astype(np.float32)
    b = np.zeros(5, np.float32)
    gz = rng.normal(size=(3, 5, 10, 9)).astype(np.float32)
    before = base.copy()
    got = run_conv(x, w, b, (1, 1), (1, 1), gz)
    for name, g, r in zip(("z", "dx", "dw"), got, conv_reference(x, w, b, (1, 1), (1, 1), gz)):
        assert_close(g, r, name)
    np.testing.assert_array_equal(base, before)


def test_compiled_conv_without_dx_for_the_input_layer(native, rng):
    x = dlx.Tensor(rng.normal(size=(2, 3, 8, 8)).astype(np.float32))  # no requires_grad
    w = dlx.Parameter(rng.normal(size=(4, 3, 3, 3)).astype(np.float32))
    F.conv2d(x, w, None, 1, 1).sum().backward()
    assert x.grad is None and w.grad is not None and np.isfinite(w.grad).all()


def bn_reference(x, gamma, beta, gy, eps, mean=None, var=None):
    """float64 y, dx, dgamma, dbeta, mean, var with the course's formulas."""
    x, gy = x.astype(np.float64), gy.astype(np.float64)
    gamma, beta = gamma.astype(np.float64), beta.astype(np.float64)
    axes, count = (0, 2, 3), x.size // x.shape[1]
    batch = mean is None
    if batch:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    c = lambda v: np.asarray(v, np.float64)[None, :, None, None]  # noqa: E731
    xhat = (x - c(mean)) / np.sqrt(c(var) + eps)
    y = c(gamma) * xhat + c(beta)
    dbeta, dgamma = gy.sum(axis=axes), (gy * xhat).sum(axis=axes)
    if batch:
        dx = c(gamma) / np.sqrt(c(var) + eps) * (gy - c(dbeta) / count - xhat * c(dgamma) / count)
    else:
        dx = gy * c(gamma) / np.sqrt(c(var) + eps)
    return y, dx, dgamma, dbeta, mean, var


@pytest.mark.parametrize("shape", [(4, 3, 5, 7), (32, 16, 32, 32), (3, 5, 1, 1), (2, 4, 17, 3)])
@pytest.mark.parametrize("offset", [0.0, 1e3], ids=["centred", "far-from-zero"])
def test_compiled_batch_norm_matches_the_course_formulas(native, rng, shape, offset):
    x = (rng.normal(size=shape) * 2 + offset).astype(np.float32)
    gamma, beta = rng.normal(size=(2, shape[1])).astype(np.float32)
    gy = rng.normal(size=shape).astype(np.float32)
    assert isinstance(native.batch_norm_kernels(x), CompiledBatchNorm)
    xt, gt, bt = dlx.Tensor(x, requires_grad=True), dlx.Parameter(gamma), dlx.Parameter(beta)
    running_mean, running_var = np.zeros(shape[1], np.float32), np.ones(shape[1], np.float32)
    y = F.batch_norm(xt, gt, bt, running_mean, running_var, momentum=0.0)
    y.backward(gy)
    want = bn_reference(x, gamma, beta, gy, 1e-5)
    # float32 x - mean loses log2(offset / std) bits: the tolerance grows with the offset
    loss = 1 + offset / 100
    for name, got, ref, tol in (("y", y.data, want[0], 1e-5), ("dx", xt.grad, want[1], 1e-4),
                                ("dgamma", gt.grad, want[2], 1e-5),
                                ("dbeta", bt.grad, want[3], 1e-5),
                                ("mean", running_mean, want[4], 1e-6),
                                ("var", running_var, want[5], 1e-5)):
        assert_close_to(got, ref, tol * loss, name)
    # evaluation mode: the given statistics
    xt.grad = None
    y = F.batch_norm(xt, gt, bt, running_mean, running_var, training=False)
    y.backward(gy)
    want = bn_reference(x, gamma, beta, gy, 1e-5, running_mean, running_var)
    assert_close_to(y.data, want[0], 1e-5 * loss, "eval y")
    assert_close_to(xt.grad, want[1], 1e-5 * loss, "eval dx")


def assert_close_to(got, want, tol, what):
    err = float(np.abs(got - want).max() / max(1.0, np.abs(want).max()))
    assert err < tol, f"{what}: relative error {err:.2e} (tolerance {tol:.0e})"


def test_batch_norm_of_dense_input_and_float64_use_the_numpy_code(native, rng):
    assert native.batch_norm_kernels(rng.normal(size=(8, 5)).astype(np.float32)) is None
    assert native.batch_norm_kernels(rng.normal(size=(2, 3, 4, 4))) is None  # float64
    assert not isinstance(native.conv_columns((2, 3, 8, 8), (3, 3), (1, 1), (1, 1), np.float64),
                          DirectConv)


@pytest.mark.parametrize("march", ["x86-64-v3", "x86-64"], ids=["avx2-8-lanes", "sse-4-lanes"])
def test_narrower_vector_builds_match_the_reference(rng, monkeypatch, march):
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the other vector widths are x86 builds")
    lib = cpu_kernels.load(cpu_kernels.build(march=march))
    assert lib.dlx_cpu_vector_width() == (8 if march == "x86-64-v3" else 4)
    monkeypatch.setattr(cpu_kernels, "library", lambda sanitize=False: lib)
    monkeypatch.setenv("DLX_CPU_KERNELS", "native")
    with B.use("numpy"):
        for shape, k, f, s, p in (((3, 5, 11, 9), 7, 3, 2, 1), ((2, 16, 12, 12), 13, 3, 1, 1),
                                  ((2, 3, 9, 8), 4, 1, 2, 0)):
            x = rng.normal(size=shape).astype(np.float32)
            w = rng.normal(size=(k, shape[1], f, f)).astype(np.float32)
            b = rng.normal(size=k).astype(np.float32)
            oh, ow = (shape[2] + 2 * p - f) // s + 1, (shape[3] + 2 * p - f) // s + 1
            gz = rng.normal(size=(shape[0], k, oh, ow)).astype(np.float32)
            for name, g, r in zip(("z", "dx", "dw", "db"), run_conv(x, w, b, (s, s), (p, p), gz),
                                  conv_reference(x, w, b, (s, s), (p, p), gz)):
                assert_close(g, r, f"{march} {name}")
        x = rng.normal(size=(3, 4, 5, 7)).astype(np.float32)
        gamma, beta = np.ones(4, np.float32), np.zeros(4, np.float32)
        y = F.batch_norm(dlx.Tensor(x), dlx.Parameter(gamma), dlx.Parameter(beta))
        assert_close_to(y.data, bn_reference(x, gamma, beta, x, 1e-5)[0], 1e-5, f"{march} bn")


def test_the_policy_variable(monkeypatch):
    backend = B.get("numpy")
    args = ((2, 3, 8, 8), (3, 3), (1, 1), (1, 1), np.float32)
    monkeypatch.setenv("DLX_CPU_KERNELS", "numpy")
    assert isinstance(backend.conv_columns(*args), PhaseRowColumns)
    assert backend.batch_norm_kernels(np.zeros((2, 3, 4, 4), np.float32)) is None
    assert backend.describe()["cpu_kernels"] == {"policy": "numpy", "engine": "numpy",
                                                 "reason": "DLX_CPU_KERNELS=numpy"}
    for value in ("native", "auto", ""):
        monkeypatch.setenv("DLX_CPU_KERNELS", value)
        assert isinstance(backend.conv_columns(*args), DirectConv)
        state = backend.describe()["cpu_kernels"]
        assert state["engine"] == "native" and state["vector_width"] in (4, 8, 16)
    monkeypatch.setenv("DLX_CPU_KERNELS", "fast")
    with pytest.raises(ConfigError, match="DLX_CPU_KERNELS must be 'auto', 'native' or 'numpy', "
                                          "got 'fast'"):
        backend.conv_columns(*args)


def test_without_a_compiler_auto_falls_back_and_native_says_why(monkeypatch, tmp_path, rng):
    monkeypatch.setattr(cpu_kernels, "_loaded", {})  # forget this process's build
    monkeypatch.setenv("DLX_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cpu_kernels, "find_compiler", lambda: None)
    backend = B.get("numpy")
    monkeypatch.setenv("DLX_CPU_KERNELS", "auto")
    state = backend.describe()["cpu_kernels"]
    assert state["engine"] == "numpy" and "no C++ compiler" in state["reason"]
    x = rng.normal(size=(2, 3, 6, 6)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    with B.use(backend):
        z = F.conv2d(x, w, None, 1, 1).data  # the NumPy columns
    assert_close(z, conv_reference(x, w, np.zeros(4), (1, 1), (1, 1),
                                   np.zeros((2, 4, 6, 6)))[0], "fallback z")
    monkeypatch.setenv("DLX_CPU_KERNELS", "native")
    with pytest.raises(BackendUnavailableError,
                       match="DLX_CPU_KERNELS=native.*no C\\+\\+ compiler"):
        backend.conv_columns(x.shape, (3, 3), (1, 1), (1, 1), np.float32)


def test_the_emulated_backend_convolves_through_its_cuda_kernels(emulated):
    layout = emulated.conv_columns((2, 3, 8, 8), (3, 3), (1, 1), (1, 1), np.float32)
    assert type(layout) is Im2colColumns
    assert emulated.batch_norm_kernels(np.zeros((2, 3, 4, 4), np.float32)) is None


FORK_CHILD = textwrap.dedent("""
    import os, sys
    import numpy as np
    import threadpoolctl
    import dlx, dlx.functional as F
    threadpoolctl.threadpool_limits(2)
    os.environ["DLX_CPU_KERNELS"] = "native"
    x = dlx.Tensor(np.ones((32, 16, 32, 32), np.float32))
    w = dlx.Parameter(np.ones((16, 16, 3, 3), np.float32))
    parent = float(F.conv2d(x, w, None, 1, 1).data.sum())  # starts libgomp's threads
    pid = os.fork()
    if pid == 0:
        ok = float(F.conv2d(x, w, None, 1, 1).data.sum()) == parent
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    print("child exit", os.waitstatus_to_exitcode(status))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_runs_the_kernels_without_hanging():
    pytest.importorskip("threadpoolctl")
    proc = subprocess.run([sys.executable, "-c", FORK_CHILD], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "child exit 0" in proc.stdout


def test_the_sources_compile_without_warnings():
    compiler = cpu_kernels.find_compiler()
    directory = cpu_kernels.kernel_sources.kernel_dir()
    for source in cpu_kernels.SOURCES:
        proc = subprocess.run([compiler, *cpu_kernels.FLAGS, "-march=native", "-Werror",
                               "-fsyntax-only", str(directory / source)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_a_strided_bias_is_read_by_value(native, rng):
    x = rng.normal(size=(2, 3, 6, 6)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    b = rng.normal(size=8).astype(np.float32)[::2]  # a view with stride 8 bytes
    z = F.conv2d(x, w, b, 1, 1).data
    want = conv_reference(x, w, b, (1, 1), (1, 1), np.zeros((2, 4, 6, 6), np.float32))[0]
    assert_close(z, want, "z with a strided bias")
