"""Recycled host buffers for the short-lived workspaces of the NumPy convolution.

A convolution builds its columns chunk by chunk (a few MiB each). With glibc's start-up
thresholds (``DLX_HOST_MALLOC=system``, see :mod:`dlx.backends.host_allocator`) such
requests come from the top of the heap, which is handed back to the OS as soon as more than
twice the request is free there, so every chunk page-faulted its fresh workspace in again:
about 9,600 faults (37 MiB) per ResNet b32 step in the column copies alone. The pool keeps
the buffers instead, whatever the allocator does.

An array it hands out is a view of a pooled byte buffer. NumPy makes every array derived
from it (reshape, slice, transpose, ...) refer to that buffer as its ``base``, so the
buffer's reference count tells when the last view is gone and the buffer is free again;
columns kept for the backward pass simply stay in use. Buffers are matched by exact size
(a training step asks for the same shapes every time); free buffers are dropped when the
pool would grow past ``max_bytes``, and the convolution releases its free ones after each
pass over its chunks (``PhaseRowColumns.release``): the chunks of one pass share their
buffers, and no layer's workspace stays alive through the others.
"""

from __future__ import annotations

import sys
import threading

import numpy as np


class BufferPool:
    """``empty(shape, dtype)``: like ``np.empty``, from recycled buffers when at least
    ``min_bytes`` are asked for."""

    def __init__(self, min_bytes: int = 1 << 18, max_bytes: int = 1 << 26):
        self.min_bytes, self.max_bytes = min_bytes, max_bytes
        self._buffers: dict[int, list] = {}  # nbytes -> byte buffers
        self._total = 0
        self._lock = threading.Lock()
        for buf in [np.empty(1, np.uint8)]:  # the count of a buffer only a list holds,
            self._unused_refs = sys.getrefcount(buf)  # seen from a loop over that list

    def empty(self, shape, dtype):
        dtype = np.dtype(dtype)
        shape = tuple(int(s) for s in shape)
        nbytes = dtype.itemsize
        for s in shape:
            nbytes *= s
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype)
        with self._lock:
            buf = self._free_buffer(nbytes)
            if buf is None:
                buf = np.empty(nbytes, np.uint8)
                self._make_room(nbytes)
                self._buffers.setdefault(nbytes, []).append(buf)
                self._total += nbytes
            return buf.view(dtype).reshape(shape)

    def _free_buffer(self, nbytes):
        for buf in self._buffers.get(nbytes, ()):
            if sys.getrefcount(buf) == self._unused_refs:
                return buf
        return None

    def _make_room(self, nbytes) -> None:
        """Drop free buffers until ``nbytes`` more fit under ``max_bytes``."""
        for size in list(self._buffers):
            if self._total + nbytes <= self.max_bytes:
                return
            self._drop_free(size)

    def _drop_free(self, size) -> None:
        kept = [b for b in self._buffers[size] if sys.getrefcount(b) != self._unused_refs]
        self._total -= size * (len(self._buffers[size]) - len(kept))
        self._buffers[size] = kept

    def release_free(self) -> None:
        """Give every free buffer back (buffers still in use stay pooled)."""
        with self._lock:
            for size in list(self._buffers):
                self._drop_free(size)

    def pooled_bytes(self) -> int:
        """Bytes the pool holds (free and in use)."""
        return self._total
