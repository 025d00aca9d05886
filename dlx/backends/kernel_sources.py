"""Where the CUDA kernel sources live, and which entry points each one must define.

The ``.cu`` files ship as the package data ``dlx.kernels`` (the repository's top-level
``kernels/`` directory); a source checkout that is not installed reads ``<repo>/kernels``.
Every kernel file defines one ``extern "C"`` entry point per primitive and dtype, named
``<kernel>_f32`` / ``<kernel>_f64``.

:func:`source` gives the text handed to NVRTC (CuPy's ``RawModule`` and the compile checks):
the local ``#include "dlx_common.cuh"`` is expanded in place, with ``#line`` markers, so the
compiler needs no include path and CuPy's on-disk cache key covers the header too.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

#: kernel file (without .cu) -> the kernels it defines (each in a _f32 and a _f64 flavour)
KERNELS: dict[str, tuple[str, ...]] = {
    "im2col": ("im2col", "col2im"),
    "maxpool": ("maxpool_fwd", "maxpool_bwd"),
    "softmax_ce": ("softmax_ce_rows", "softmax_ce_reduce", "softmax_ce_bwd"),
    "rnn_cells": ("rnn_fwd", "rnn_bwd", "lstm_fwd", "lstm_bwd", "gru_reset_fwd", "gru_state_fwd",
                  "gru_state_bwd", "gru_reset_bwd", "gru_torch_fwd", "gru_torch_bwd"),
}
#: NumPy dtype name -> entry point suffix
SUFFIXES: dict[str, str] = {"float32": "f32", "float64": "f64"}

_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"[ \t]*$', re.MULTILINE)


def kernel_dir() -> Path:
    """The directory holding the installed (or checked-out) ``*.cu`` files."""
    spec = importlib.util.find_spec("dlx.kernels")
    candidates = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    candidates.append(Path(__file__).resolve().parents[2] / "kernels")  # source checkout
    for candidate in candidates:
        if all((candidate / f"{module}.cu").is_file() for module in KERNELS):
            return candidate
    raise FileNotFoundError(f"dlx's CUDA kernel sources were not found (looked in "
                            f"{', '.join(map(str, candidates))}); reinstall dlx")


def entry_points(module: str) -> list[str]:
    """Every ``extern "C"`` name ``<module>.cu`` must define, e.g. ``im2col_f32``."""
    return [f"{kernel}_{suffix}" for kernel in KERNELS[module] for suffix in SUFFIXES.values()]


def source(module: str, directory: Path | None = None) -> str:
    """The text of ``<module>.cu`` with its local includes expanded (for NVRTC)."""
    directory = kernel_dir() if directory is None else Path(directory)
    return _expand(directory / f"{module}.cu", seen=set())


def _expand(path: Path, seen: set[Path]) -> str:
    text = path.read_text()
    out, last = [], 0
    for match in _INCLUDE.finditer(text):
        header = path.parent / match.group(1)
        line = text.count("\n", 0, match.end()) + 2
        out.append(text[last:match.start()])
        if header not in seen:  # headers carry include guards; expand each once
            seen.add(header)
            out.append(f'#line 1 "{header.name}"\n{_expand(header, seen)}\n')
        out.append(f'#line {line} "{path.name}"')
        last = match.end()
    out.append(text[last:])
    return "".join(out)
