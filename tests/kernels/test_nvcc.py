"""nvcc compiles every kernel file with warnings as errors for the architectures it supports
(CUDA 13 dropped sm_70); ptxas' register/spill report is printed (``pytest -s``)."""

from __future__ import annotations

import pytest

from dlx.backends import kernel_sources
from dlx.backends.compile_check import ARCHS, nvcc_archs, nvcc_compile, nvcc_path

pytestmark = pytest.mark.skipif(nvcc_path() is None, reason="nvcc is not installed")


@pytest.mark.parametrize("module", kernel_sources.KERNELS)
def test_nvcc_compiles_without_warnings_or_spills(module):
    archs = nvcc_archs()
    assert archs, f"nvcc supports none of {ARCHS}"
    report = nvcc_compile(module, archs)
    compiled = {(r.kernel, r.arch) for r in report}
    assert compiled == {(k, a) for k in kernel_sources.entry_points(module) for a in archs}
    for r in report:
        print(f"sm_{r.arch} {r.kernel}: {r.registers} registers, {r.stack_bytes} B stack, "
              f"spills {r.spill_stores}/{r.spill_loads} B")
        assert r.spill_stores == r.spill_loads == 0, r
