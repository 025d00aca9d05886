"""Shared fixtures: ``backend`` runs a test body on every backend this machine can run.

numpy always; ``emulated`` (the CUDA kernels compiled for the host) wherever a C++ compiler
exists; ``cupy`` only where a GPU works, otherwise skipped with the reason.

``DLX_REQUIRE_BACKENDS`` (comma list, e.g. ``emulated``) turns those skips into failures
for the named backends, so CI can never skip them silently.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

import dlx.backends as B


@functools.lru_cache(maxsize=None)
def backend_status(name: str) -> tuple[bool, str]:
    return B.available()[name]


def required_backends() -> set[str]:
    """Backends named in ``DLX_REQUIRE_BACKENDS``: unavailable means failure, not skip."""
    names = {n.strip().lower() for n in os.environ.get("DLX_REQUIRE_BACKENDS", "").split(",")}
    names.discard("")
    unknown = names - set(B.NAMES)
    if unknown:
        raise pytest.UsageError(f"DLX_REQUIRE_BACKENDS names unknown backend(s) "
                                f"{sorted(unknown)}; known: {', '.join(B.NAMES)}")
    return names


def pytest_configure(config):
    required_backends()  # a misspelt DLX_REQUIRE_BACKENDS is a usage error, not a no-op


def require_or_skip(name: str) -> None:
    """Skip the test when backend ``name`` is unavailable -- or fail when it is required."""
    ok, why = backend_status(name)
    if ok:
        return
    message = f"{name} backend unavailable: {why}"
    if name in required_backends():
        pytest.fail(f"{message} (required by DLX_REQUIRE_BACKENDS)", pytrace=False)
    pytest.skip(message)


def _backend_params():
    return [pytest.param("numpy", id="numpy"),
            pytest.param("emulated", id="emulated"),
            pytest.param("cupy", id="cupy", marks=pytest.mark.gpu)]


@pytest.fixture(params=_backend_params())
def backend(request):
    """Activate one backend for the test and yield it (skips with the reason if absent)."""
    require_or_skip(request.param)
    with B.use(request.param) as be:
        be.seed(0)
        yield be


@pytest.fixture(scope="session")
def require_backend():
    """``require_backend(name)``: skip unless backend ``name`` runs here (fail if required)."""
    return require_or_skip


@pytest.fixture(scope="session")
def emulated():
    """The emulated-CUDA backend (kernels built once, cached); skip/fail as ``backend`` does."""
    require_or_skip("emulated")
    return B.get("emulated")


@pytest.fixture(scope="session")
def gpu():
    """The CuPy backend (skipped with the reason where no GPU works; failed if required)."""
    require_or_skip("cupy")
    return B.get("cupy")


@pytest.fixture(scope="session")
def reference():
    """The NumPy backend, the reference the kernel backends are compared with."""
    return B.get("numpy")


@pytest.fixture
def rng():
    """A host NumPy generator for building test inputs (seeded)."""
    return np.random.default_rng(1234)


@pytest.fixture
def float64_default():
    """Every tensor and parameter built during the test is float64 (exact formula and
    gradient checks); the previous default dtype is restored afterwards."""
    import dlx

    with dlx.default_dtype("float64"):
        yield


@pytest.fixture
def numpy_columns(monkeypatch):
    """float32 convolutions and batch norms on the NumPy backend take the NumPy code (the
    column layouts), not the compiled CPU kernels (``DLX_CPU_KERNELS=numpy``)."""
    monkeypatch.setenv("DLX_CPU_KERNELS", "numpy")
