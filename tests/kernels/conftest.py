"""Fixtures of the kernel tests: one emulated backend per session (built once, cached)."""

from __future__ import annotations

import pytest

import dlx.backends as B


@pytest.fixture(scope="session")
def emulated(require_backend):
    require_backend("emulated")
    return B.get("emulated")


@pytest.fixture(scope="session")
def reference():
    return B.get("numpy")
