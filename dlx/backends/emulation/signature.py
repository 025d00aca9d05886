"""Parameter lists of the ``extern "C" __global__`` entry points of a kernel source.

The emulator reads them from the preprocessed source (macros expanded) so it can refuse,
before a launch, any argument the GPU would misread: a scalar of the wrong width or kind,
an array of the wrong dtype, a non-contiguous or read-only output array.

>>> params = parse_entry_points('extern "C" __global__ void k(const float* x, long long n) {}')
>>> [(p.name, p.dtype, p.pointer, p.const) for p in params["k"]]
[('x', 'float32', True, True), ('n', 'int64', False, False)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: C parameter type (after typedefs) -> NumPy dtype name, for the LP64 host and the GPU
C_TYPES: dict[str, str] = {
    "float": "float32",
    "double": "float64",
    "int": "int32",
    "signed int": "int32",
    "unsigned int": "uint32",
    "unsigned": "uint32",
    "long long": "int64",
    "long long int": "int64",
    "signed long long": "int64",
    "unsigned long long": "uint64",
    "unsigned long long int": "uint64",
    "bool": "bool",
}
_QUALIFIERS = {"const", "volatile", "__restrict__", "__restrict", "restrict"}
_ENTRY = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)')
_TYPEDEF = re.compile(r"\btypedef\s+([A-Za-z_][\w\s]*?)\s+([A-Za-z_]\w*)\s*;")
_TOKEN = re.compile(r"[A-Za-z_]\w*|\*")


class SignatureError(ValueError):
    """A kernel parameter list the emulator cannot map onto NumPy dtypes."""


@dataclass(frozen=True)
class Param:
    """One kernel parameter: ``dtype`` of the scalar or of the pointed-to elements."""

    name: str
    dtype: str
    pointer: bool
    const: bool  # pointer to const (the kernel only reads the array)

    def describe(self) -> str:
        kind = f"{'const ' if self.const else ''}{self.dtype}*" if self.pointer else self.dtype
        return f"{self.name}: {kind}"


def parse_entry_points(text: str) -> dict[str, tuple[Param, ...]]:
    """Every ``extern "C" __global__ void name(...)`` in ``text`` -> its parameters."""
    typedefs = {name: " ".join(base.split()) for base, name in _TYPEDEF.findall(text)}
    entries = {}
    for name, params in _ENTRY.findall(text):
        decls = [d for d in params.split(",") if d.strip() and d.strip() != "void"]
        entries[name] = tuple(_parse_param(name, d, typedefs) for d in decls)
    return entries


def _parse_param(kernel: str, decl: str, typedefs: dict[str, str]) -> Param:
    tokens = _TOKEN.findall(decl)
    words = [t for t in tokens if t != "*"]
    stars = tokens.count("*")
    if len(words) < 2 or stars > 1:
        raise SignatureError(f"kernel {kernel}: cannot parse parameter {decl.strip()!r} "
                             "(expected 'type name' or 'type* name')")
    name = words[-1]
    const = stars == 1 and "const" in tokens[: tokens.index("*")]
    base = " ".join(w for w in words[:-1] if w not in _QUALIFIERS)
    base = typedefs.get(base, base)
    if base not in C_TYPES:
        raise SignatureError(f"kernel {kernel}: parameter {name!r} has type {base!r}, which "
                             f"the emulator does not map (known: {', '.join(C_TYPES)})")
    return Param(name=name, dtype=C_TYPES[base], pointer=stars == 1, const=const)
