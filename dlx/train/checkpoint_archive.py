"""The ``.npz`` container of a checkpoint, read without trusting anything in the file.

Reading (:class:`ArchiveReader`) never hands a byte of the file to a parser that can run
code, allocate without bound or read past a member:

1. the zip directory is read by :mod:`zipfile`; duplicate, encrypted, oddly compressed or
   non-``.npy`` members are refused;
2. each member's ``.npy`` header (at most :data:`MAX_HEADER` bytes) is matched against a
   strict regular expression (``descr``, ``fortran_order``, ``shape``; no ``literal_eval``)
   and object dtypes are refused as pickled data;
3. the caller compares the header with what it expects (the checkpoint's manifest, the
   model) and only then reads the member **whole**: its declared uncompressed size must be
   exactly header + data bytes, the read is bounded by it (a deflate bomb cannot expand
   further) and reaching the end makes :mod:`zipfile` check the CRC-32;
4. the data bytes are compared with the SHA-256 the manifest records (:func:`digest`).

Reading a member whole is what makes the CRC count: ``numpy.load`` stops after the bytes
its header asks for, so a header edit that shifts the data is never seen by the CRC. The
digest protects what the CRC cannot: a member rewritten with a valid CRC.

Writing (:func:`atomic_save`) goes to a temporary file, fsync, ``os.replace``, fsync of the
directory, all under an exclusive ``flock`` of the directory; temporaries left behind by a
killed writer are removed by the next save.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import struct
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np  # checkpoint file I/O (allowed outside dlx/backends)

from dlx.errors import CheckpointError

MAX_HEADER = 65536 + 12  # a .npy v1 header is at most 65535 bytes plus its 10-byte preamble
STALE_TMP_SECONDS = 600.0  # without a lock, a temporary this old is a dead writer's
_MAGIC = b"\x93NUMPY"
_HEADER = re.compile(r"\{'descr': '([^']{1,16})', 'fortran_order': (True|False), "
                     r"'shape': \(((?:\d{1,18}, )*\d{0,18},?)\), \} *\n")
_DESCR = re.compile(r"[<>|=]?[a-zA-Z]\d{0,2}")
_PLAIN_KINDS = "fiub"  # float, signed/unsigned integer, bool
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
               struct.error, OverflowError, RuntimeError, NotImplementedError, KeyError,
               UnicodeDecodeError, zlib.error, IndexError, TypeError)
PICKLED = ("{path}: refused to load: it contains pickled Python objects, which could run "
           "code; dlx checkpoints hold plain arrays only")


@dataclass(frozen=True)
class MemberSpec:
    """What a member's ``.npy`` header declares: dtype string, shape, header length."""

    dtype: str
    shape: tuple
    header_size: int

    @property
    def nbytes(self) -> int:
        count = 1
        for n in self.shape:
            count *= n
        return count * np.dtype(self.dtype).itemsize


def digest(array) -> str:
    """SHA-256 (hex) of the C-order data bytes of ``array``."""
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def _parse_header(path, name: str, head: bytes) -> MemberSpec:
    bad = CheckpointError(f"{path}: member {name!r} has a malformed .npy header")
    if len(head) < 10 or not head.startswith(_MAGIC) or head[6] not in (1, 2, 3) or head[7]:
        raise bad
    if head[6] == 1:
        start, length = 10, int.from_bytes(head[8:10], "little")
    else:
        start, length = 12, int.from_bytes(head[8:12], "little")
    text = head[start:start + length]
    if start + length > len(head) or (start + length) % 16:
        raise bad
    match = _HEADER.fullmatch(text.decode("latin1"))
    if match is None:
        raise bad
    descr, fortran, shape_text = match.groups()
    if "O" in descr:
        raise CheckpointError(PICKLED.format(path=path))
    if _DESCR.fullmatch(descr) is None or descr.lstrip("<>|=")[0] not in _PLAIN_KINDS:
        raise CheckpointError(f"{path}: member {name!r} has dtype {descr!r}; dlx checkpoints "
                              "hold plain numeric arrays only")
    try:
        np.dtype(descr)
    except TypeError:
        raise bad from None
    shape = tuple(int(n) for n in shape_text.split(",") if n.strip())
    if fortran == "True":
        raise CheckpointError(f"{path}: member {name!r} is stored in Fortran order, which dlx "
                              "never writes")
    return MemberSpec(np.dtype(descr).str, shape, start + length)


class ArchiveReader:
    """An open checkpoint archive: member names, their headers, bounded whole reads."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
            infos = self._zip.infolist()
        except _ZIP_ERRORS as exc:
            raise CheckpointError(f"{self.path}: not a dlx checkpoint (unreadable or truncated "
                                  f"archive: {exc})") from None
        self.infos: dict[str, zipfile.ZipInfo] = {}
        try:
            self._index(infos)
        except CheckpointError:
            self.close()
            raise

    def _index(self, infos) -> None:
        for info in infos:
            name = info.filename[:-4] if info.filename.endswith(".npy") else None
            if name is None or not name:
                raise CheckpointError(f"{self.path}: unexpected member {info.filename!r} (a "
                                      "checkpoint holds .npy arrays only)")
            if name in self.infos:
                raise CheckpointError(f"{self.path}: member {name!r} appears twice")
            if info.flag_bits & 0x1:
                raise CheckpointError(f"{self.path}: member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise CheckpointError(f"{self.path}: member {name!r} uses compression method "
                                      f"{info.compress_type}; expected stored or deflated")
            self.infos[name] = info

    def close(self) -> None:
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _raw(self, name: str, limit: int) -> bytes:
        """Up to ``limit`` decompressed bytes of member ``name`` (whole: CRC-checked)."""
        try:
            with self._zip.open(self.infos[name]) as f:
                return f.read(limit)
        except _ZIP_ERRORS as exc:
            raise CheckpointError(f"{self.path}: member {name!r} is corrupted ({exc})") from None

    def is_stored(self, name: str) -> bool:
        """Whether member ``name`` is stored uncompressed (its size is bounded by the file)."""
        return self.infos[name].compress_type == zipfile.ZIP_STORED

    def header(self, name: str) -> MemberSpec:
        """The parsed ``.npy`` header of ``name`` (reads at most MAX_HEADER bytes)."""
        size = self.infos[name].file_size
        return _parse_header(self.path, name, self._raw(name, min(size, MAX_HEADER)))

    def read(self, name: str, spec: MemberSpec, sha256: str | None = None) -> np.ndarray:
        """Member ``name`` as an array, refused unless its size is exactly what ``spec``
        declares (checked before reading), its CRC holds and its bytes hash to ``sha256``."""
        size = spec.header_size + spec.nbytes
        declared = self.infos[name].file_size
        if declared != size:
            raise CheckpointError(f"{self.path}: member {name!r} declares {declared} bytes; "
                                  f"a {spec.dtype} array of shape {spec.shape} needs {size}")
        raw = self._raw(name, size + 1)
        if len(raw) != size:
            raise CheckpointError(f"{self.path}: member {name!r} holds {len(raw)} bytes, "
                                  f"expected {size}")
        if _parse_header(self.path, name, raw[:spec.header_size]) != spec:
            raise CheckpointError(f"{self.path}: member {name!r} changed while being read")
        array = np.frombuffer(raw, dtype=spec.dtype, offset=spec.header_size).reshape(spec.shape)
        if sha256 is not None and digest(array) != sha256:
            raise CheckpointError(f"{self.path}: member {name!r} does not match its SHA-256 "
                                  "digest in the metadata: the file is corrupted")
        return array.copy()  # writable and owning its memory


# -- writing --------------------------------------------------------------------------------------
@contextlib.contextmanager
def _directory_lock(directory: Path):
    """Hold an exclusive ``flock`` on ``directory`` (yields False where none can be taken).

    Every save holds it while its temporary file exists, so a temporary found while holding
    it was left by a writer that died (SIGKILL, power loss)."""
    try:
        import fcntl

        fd = os.open(directory, os.O_RDONLY)
    except (ImportError, OSError):
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a filesystem without flock
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _remove_temporaries(path: Path, all_of_them: bool) -> None:
    """Delete ``.<name>.*.tmp`` files of earlier, killed saves of ``path`` (without a lock:
    only those older than :data:`STALE_TMP_SECONDS`)."""
    pattern = "." + re.sub(r"([*?\[])", r"[\1]", path.name) + ".*.tmp"
    for tmp in path.parent.glob(pattern):
        with contextlib.suppress(FileNotFoundError):
            if all_of_them or time.time() - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                tmp.unlink()


def atomic_save(path, arrays: dict, write=None) -> Path:
    """Write an ``.npz`` of ``arrays`` to ``path``: temp file, flush+fsync, rename, fsync dir.

    Under the directory lock, so temporaries of killed earlier saves are removed first.
    ``write(fileobj, arrays)`` serialises (default ``numpy.savez``)."""
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    with _directory_lock(directory) as locked:
        _remove_temporaries(path, all_of_them=locked)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                (write or _savez)(f, arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_directory(directory)
    return path


def _savez(fileobj, arrays: dict) -> None:
    np.savez(fileobj, **arrays)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); directories cannot be opened this way on Windows."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
