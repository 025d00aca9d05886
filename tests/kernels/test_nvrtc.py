"""Every kernel file compiles with NVRTC -- CuPy's run-time compiler, with CuPy's options --
for sm_75, sm_80, sm_86 and sm_90, and defines every expected entry point. No GPU needed."""

from __future__ import annotations

import re

import pytest

from dlx.backends import kernel_sources
from dlx.backends.compile_check import ARCHS, nvrtc_compile, nvrtc_status

ok, why = nvrtc_status()
pytestmark = pytest.mark.skipif(not ok, reason=why)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("module", kernel_sources.KERNELS)
def test_nvrtc_compiles_with_cupy_runtime_options(module, arch):
    result = nvrtc_compile(module, arch)
    assert set(kernel_sources.entry_points(module)) <= result.entry_points
    assert f"-arch=sm_{arch}" in result.options
    for option in ("--std=c++17", "-ftz=true", "--device-as-default-execution-space"):
        assert option in result.options
    assert "warning" not in result.log.lower(), result.log


@pytest.mark.parametrize("module", kernel_sources.KERNELS)
def test_sources_are_nvrtc_clean(module):
    text = re.sub(r"//[^\n]*", "", kernel_sources.source(module))  # code, not comments
    assert not re.search(r"#\s*include\s*<", text), "no host headers"
    assert "#include" not in text, "local includes are expanded for NVRTC"
    assert not re.search(r"\bINFINITY\b|\bNAN\b", text), "NVRTC has no INFINITY/NAN macros"
