"""Shared fixtures: ``backend`` runs a test body on every backend this machine can run.

numpy always; ``emulated`` (the CUDA kernels compiled for the host) wherever a C++ compiler
exists; ``cupy`` only where a GPU works, otherwise skipped with the reason.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import dlx.backends as B


@functools.lru_cache(maxsize=None)
def backend_status(name: str) -> tuple[bool, str]:
    return B.available()[name]


def _backend_params():
    return [pytest.param("numpy", id="numpy"),
            pytest.param("emulated", id="emulated"),
            pytest.param("cupy", id="cupy", marks=pytest.mark.gpu)]


@pytest.fixture(params=_backend_params())
def backend(request):
    """Activate one backend for the test and yield it (skips with the reason if absent)."""
    ok, why = backend_status(request.param)
    if not ok:
        pytest.skip(f"{request.param} backend unavailable: {why}")
    with B.use(request.param) as be:
        be.seed(0)
        yield be


@pytest.fixture
def rng():
    """A host NumPy generator for building test inputs (seeded)."""
    return np.random.default_rng(1234)
