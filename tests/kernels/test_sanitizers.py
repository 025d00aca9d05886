"""The emulated kernels under AddressSanitizer + UndefinedBehaviorSanitizer.

The sanitised libraries are built here (cached), then a subprocess with the ASan runtime
preloaded (``LD_PRELOAD=$(g++ -print-file-name=libasan.so)``) runs every primitive once.
A copy of im2col.cu with an off-by-one in a bound must make that subprocess fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlx.backends import cpu_kernels, kernel_sources
from dlx.backends.emulation import build, find_compiler

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def asan_runtime(emulated):
    compiler = find_compiler()
    found = subprocess.run([compiler, "-print-file-name=libasan.so"], capture_output=True,
                           text=True).stdout.strip()
    if not os.path.isabs(found):
        pytest.skip(f"{compiler} has no AddressSanitizer runtime (libasan.so not found)")
    return found


def _prebuild(kernel_dir: Path) -> None:
    """Compile the sanitised libraries outside the sanitised process (cached by content)."""
    for module in kernel_sources.KERNELS:
        build(kernel_dir / f"{module}.cu", find_compiler(), sanitize=True)


def _sanitized_run(asan_runtime: str, kernel_dir: Path,
                   script: str = "sanitized_run.py") -> subprocess.CompletedProcess:
    env = dict(os.environ, LD_PRELOAD=asan_runtime, ASAN_OPTIONS="detect_leaks=0",
               UBSAN_OPTIONS="print_stacktrace=1",
               PYTHONPATH=os.pathsep.join([str(HERE), *sys.path]))
    return subprocess.run([sys.executable, str(HERE / script), str(kernel_dir)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_every_primitive_is_clean_under_sanitizers(asan_runtime):
    kernel_dir = kernel_sources.kernel_dir()
    _prebuild(kernel_dir)
    proc = _sanitized_run(asan_runtime, kernel_dir)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "every primitive ok" in proc.stdout
    assert "runtime error" not in proc.stderr and "AddressSanitizer" not in proc.stderr


def _planted(tmp_path: Path, name: str, right: str, wrong: str) -> Path:
    """A copy of the kernel directory with ``right`` (found once in ``name``) made ``wrong``."""
    broken = tmp_path / "kernels"
    shutil.copytree(kernel_sources.kernel_dir(), broken)
    source = (broken / name).read_text()
    assert source.count(right) == 1
    (broken / name).write_text(source.replace(right, wrong))
    return broken


def test_off_by_one_in_a_bound_is_caught(asan_runtime, tmp_path):
    broken = _planted(tmp_path, "im2col.cu", "y >= 0 && y < g.h", "y >= 0 && y <= g.h")
    _prebuild(broken)
    proc = _sanitized_run(asan_runtime, broken)
    assert proc.returncode != 0
    assert "AddressSanitizer: heap-buffer-overflow" in proc.stderr, proc.stderr[-4000:]
    assert "im2col.cu" in proc.stderr  # the report points into the kernel source


def _sanitized_cpu_run(asan_runtime: str, kernel_dir: Path) -> subprocess.CompletedProcess:
    cpu_kernels.build(sanitize=True, directory=kernel_dir)  # compiled outside ASan
    return _sanitized_run(asan_runtime, kernel_dir, "sanitized_cpu_run.py")


def test_the_compiled_cpu_kernels_are_clean_under_sanitizers(asan_runtime):
    proc = _sanitized_cpu_run(asan_runtime, kernel_sources.kernel_dir())
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "compiled CPU kernels ok" in proc.stdout
    assert "runtime error" not in proc.stderr and "AddressSanitizer" not in proc.stderr


def test_a_missing_workspace_margin_in_the_cpu_kernels_is_caught(asan_runtime, tmp_path):
    broken = _planted(tmp_path, "direct_conv.cpp", "Buffer phases(g.sample_floats() + g.slack());",
                      "Buffer phases(g.sample_floats());")
    proc = _sanitized_cpu_run(asan_runtime, broken)
    assert proc.returncode != 0
    # a 64-byte vector load across the end: "heap-buffer-overflow", or "unknown-crash" when
    # it starts inside the allocation's rounding
    assert "ERROR: AddressSanitizer" in proc.stderr, proc.stderr[-4000:]
    assert "direct_conv.cpp" in proc.stderr  # the report points into the kernel source
