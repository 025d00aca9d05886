"""Compile checks of ``kernels/*.cu`` that need no GPU: NVRTC exactly as CuPy runs it, and nvcc.

NVRTC -- what ``cupy.RawModule`` runs on the user's machine. The options are assembled by
CuPy's own code: ``cupy._core.core.assemble_cupy_compiler_options(NVRTC_OPTIONS)``
(``--std=c++17`` and include paths), ``-ftz=true`` (added by
``cupy.cuda.compiler._compile_with_cache_cuda``), then ``-arch=sm_XX`` and
``--device-as-default-execution-space`` (added by ``_compile_using_nvrtc_no_warning``,
which we call). Only CuPy's device query is replaced, by the same rule applied to the
requested architecture, because no GPU is present. The entry points are read from the
resulting cubin's ELF symbol table (or the PTX ``.entry`` lines when CuPy emits PTX).

nvcc -- ``nvcc -Werror all-warnings -Xptxas -v`` for every architecture in :data:`ARCHS`
that the installed nvcc supports; registers, stack and spills per kernel are parsed from
ptxas' report.

Run ``python -m dlx.backends.compile_check`` for a report.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dlx.backends import kernel_sources
from dlx.errors import DlxError

ARCHS: tuple[str, ...] = ("75", "80", "86", "90")


class CompileCheckError(DlxError, RuntimeError):
    """A kernel file failed to compile or lacks an expected entry point."""


@dataclass(frozen=True)
class NvrtcResult:
    module: str
    arch: str
    options: tuple[str, ...]
    entry_points: frozenset[str]
    log: str


@dataclass(frozen=True)
class KernelResources:
    """ptxas' report for one kernel on one architecture."""

    kernel: str
    arch: str
    registers: int
    stack_bytes: int
    spill_stores: int
    spill_loads: int


# -- NVRTC ----------------------------------------------------------------------------------
def nvrtc_status() -> tuple[bool, str]:
    """(usable, reason): whether CuPy's NVRTC bindings can load the NVRTC library here."""
    try:
        from cupy.cuda import nvrtc

        major, minor = nvrtc.getVersion()
    except ImportError as exc:
        return False, f"CuPy is not installed ({exc}); the NVRTC check uses CuPy's bindings"
    except Exception as exc:  # the library itself is missing
        return False, (f"the NVRTC library cannot be loaded ({type(exc).__name__}: {exc}); "
                       "install nvidia-cuda-nvrtc-cu12")
    return True, f"NVRTC {major}.{minor}"


def nvrtc_compile(module: str, arch: str) -> NvrtcResult:
    """Compile ``kernels/<module>.cu`` for ``sm_<arch>`` with CuPy's run-time NVRTC options."""
    import cupy._core.core as core
    from cupy.cuda import compiler

    from dlx.backends.cupy_backend import NVRTC_OPTIONS

    options = core.assemble_cupy_compiler_options(NVRTC_OPTIONS) + ("-ftz=true",)
    log = _LogStream()
    with _without_device(compiler, arch) as used_options:
        try:
            binary, _ = compiler._compile_using_nvrtc_no_warning(
                kernel_sources.source(module), options, arch, f"{module}.cu", None, log,
                False, False, None)
        except compiler.CompileException as exc:
            raise CompileCheckError(f"NVRTC rejected {module}.cu for sm_{arch}:\n{exc}") from exc
    entries = _entry_points(binary)
    missing = sorted(set(kernel_sources.entry_points(module)) - entries)
    if missing:
        raise CompileCheckError(f"{module}.cu compiled for sm_{arch} lacks entry points "
                                f"{missing}; it has {sorted(entries)}")
    return NvrtcResult(module, arch, tuple(used_options), frozenset(entries), log.text)


class _LogStream:
    text = ""

    def write(self, text: str) -> None:
        self.text += text


@contextlib.contextmanager
def _without_device(compiler, arch: str):
    """Stand in for CuPy's per-device arch query; record the options NVRTC receives."""
    used: list[str] = []
    real_arch, real_program = compiler._get_arch_for_options_for_nvrtc, compiler._NVRTCProgram

    def arch_options(requested=None):
        # CuPy's rule, minus the device query: a real-arch cubin when NVRTC supports it
        requested = requested or arch
        if not compiler._use_ptx and int(requested) <= int(compiler._get_max_compute_capability()):
            return f"-arch=sm_{requested}", "cubin"
        return f"-arch=compute_{requested}", "ptx"

    class RecordingProgram(real_program):
        def compile(self, options=(), log_stream=None):
            used.extend(options)
            return super().compile(options, log_stream)

    compiler._get_arch_for_options_for_nvrtc = arch_options
    compiler._NVRTCProgram = RecordingProgram
    try:
        yield used
    finally:
        compiler._get_arch_for_options_for_nvrtc = real_arch
        compiler._NVRTCProgram = real_program


def _entry_points(binary) -> set[str]:
    if isinstance(binary, str) or not bytes(binary[:4]) == b"\x7fELF":
        text = binary if isinstance(binary, str) else bytes(binary).decode(errors="replace")
        return set(re.findall(r"\.entry\s+(\w+)", text))
    return _elf_function_symbols(bytes(binary))


def _elf_function_symbols(blob: bytes) -> set[str]:
    """Names of the global STT_FUNC symbols of a 64-bit little-endian ELF file (a cubin)."""
    shoff = struct.unpack_from("<Q", blob, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", blob, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", blob, shoff + i * shentsize)
                for i in range(shnum)]
    names = set()
    for _, sh_type, _, _, offset, size, link, _, _, entsize in sections:
        if sh_type != 2 or not entsize:  # SHT_SYMTAB
            continue
        strtab_offset = sections[link][4]
        for pos in range(offset, offset + size, entsize):
            st_name, st_info = struct.unpack_from("<IB", blob, pos)
            if st_info & 0xF == 2 and st_info >> 4 == 1:  # STT_FUNC, STB_GLOBAL
                end = blob.index(b"\0", strtab_offset + st_name)
                names.add(blob[strtab_offset + st_name:end].decode())
    return names


# -- nvcc -------------------------------------------------------------------------------------
def nvcc_path() -> str | None:
    return shutil.which("nvcc")


def nvcc_archs(archs=ARCHS) -> list[str]:
    """The architectures of ``archs`` the installed nvcc can compile for."""
    out = subprocess.run([nvcc_path(), "--list-gpu-arch"], capture_output=True, text=True).stdout
    supported = set(re.findall(r"compute_(\d+)", out))
    return [a for a in archs if a in supported]


def nvcc_compile(module: str, archs=None) -> list[KernelResources]:
    """``nvcc -Werror all-warnings -Xptxas -v`` for every arch; ptxas' per-kernel report."""
    archs = nvcc_archs() if archs is None else list(archs)
    cu_file = kernel_sources.kernel_dir() / f"{module}.cu"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [nvcc_path(), "-std=c++17", "-ftz=true", "-Werror", "all-warnings",
               "-Xptxas", "-v", *(f"-gencode=arch=compute_{a},code=sm_{a}" for a in archs),
               "-c", "-o", str(Path(tmp) / f"{module}.o"), str(cu_file)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileCheckError(f"nvcc rejected {module}.cu:\n$ {' '.join(cmd)}\n{proc.stderr}")
    return parse_ptxas_report(proc.stderr)


_COMPILING = re.compile(r"Compiling entry function '(\w+)' for 'sm_(\d+)'")
_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers")


def parse_ptxas_report(report: str) -> list[KernelResources]:
    """Per-kernel resources from ``ptxas -v`` output (one block per kernel and arch)."""
    results, current, frame = [], None, (0, 0, 0)
    for line in report.splitlines():
        if m := _COMPILING.search(line):
            current, frame = (m.group(1), m.group(2)), (0, 0, 0)
        elif (m := _FRAME.search(line)) and current:
            frame = tuple(int(v) for v in m.groups())
        elif (m := _USED.search(line)) and current:
            results.append(KernelResources(current[0], current[1], int(m.group(1)), *frame))
            current = None
    return results


def main(argv=None) -> int:
    """Print the NVRTC and nvcc reports; exit status 1 if any check fails."""
    failed = False
    ok, why = nvrtc_status()
    print(f"NVRTC: {why}")
    if ok:
        for module in kernel_sources.KERNELS:
            for arch in ARCHS:
                try:
                    result = nvrtc_compile(module, arch)
                    print(f"  {module}.cu sm_{arch}: {len(result.entry_points)} entry points ok")
                except CompileCheckError as exc:
                    failed = True
                    print(f"  FAILED {exc}")
        print(f"  options: {' '.join(nvrtc_compile('im2col', ARCHS[0]).options)}")
    if nvcc_path() is None:
        print("nvcc: not found, skipped")
    else:
        print(f"nvcc ({', '.join('sm_' + a for a in nvcc_archs())}):")
        for module in kernel_sources.KERNELS:
            try:
                for r in nvcc_compile(module):
                    print(f"  sm_{r.arch} {r.kernel:24s} {r.registers:3d} registers, "
                          f"{r.stack_bytes} B stack, spills {r.spill_stores}/{r.spill_loads} B")
            except CompileCheckError as exc:
                failed = True
                print(f"  FAILED {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
