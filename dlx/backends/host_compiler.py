"""The host C++ compiler: finding it, and compiling a shared library into a cache.

Two builds use it: the CPU emulation of the CUDA kernels (:mod:`dlx.backends.emulation`)
and the NumPy backend's compiled convolution (:mod:`dlx.backends.direct_conv`). Libraries
are cached under ``$DLX_CACHE_DIR`` (default ``$XDG_CACHE_HOME/dlx`` or ``~/.cache/dlx``),
in a directory named by the SHA-256 of everything that goes into them; a build happens in a
private temporary directory that is renamed into place, so concurrent processes never see a
half-written library.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path


class BuildError(RuntimeError):
    """The host compiler rejected a source file; the message carries its output."""


def find_compiler() -> str | None:
    """``$CXX`` if set, else the first of g++, c++, clang++ on PATH (None when none is)."""
    if os.environ.get("CXX"):
        return shutil.which(os.environ["CXX"])
    for name in ("g++", "c++", "clang++"):
        found = shutil.which(name)
        if found:
            return found
    return None


def cache_root() -> Path:
    """The directory dlx caches build artefacts in (outside the source tree)."""
    if os.environ.get("DLX_CACHE_DIR"):
        return Path(os.environ["DLX_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dlx"


def run(cmd: list[str], what: str) -> str:
    """Run a compiler command; its stdout, or :class:`BuildError` naming ``what``."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"building {what} failed:\n$ {' '.join(cmd)}\n{proc.stderr.strip()}")
    return proc.stdout


_versions: dict[str, str] = {}


def compiler_version(compiler: str) -> str:
    """``compiler --version`` (cached per process): part of every cache key."""
    if compiler not in _versions:
        _versions[compiler] = subprocess.run([compiler, "--version"], capture_output=True,
                                             text=True).stdout
    return _versions[compiler]


def compile_into(target: Path, lib_name: str, command, what: str,
                 generated: dict[str, str] | None = None) -> Path:
    """Build ``target/lib_name`` unless it exists, and return its path.

    ``command(staging)`` gives the compiler command line that writes ``staging/lib_name``;
    ``generated`` maps file names to texts written into ``staging`` first (e.g. generated
    stubs the command compiles).
    """
    library = target / lib_name
    if library.is_file():
        return library
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name, text in (generated or {}).items():
            (staging / name).write_text(text)
        run(command(staging), what)
        try:
            os.rename(staging, target)
        except OSError:  # another process finished the same build first
            if not library.is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return library
