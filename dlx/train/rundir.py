"""One writer per run directory: ``dlx train --out DIR`` holds an exclusive lock on
``DIR/.dlx-train.lock`` (``fcntl.flock``) for the whole run, so a second run into the same
directory is refused at once instead of interleaving its checkpoints with the first's.

The kernel drops the lock when the holder exits, however it exits (SIGKILL included), so a
crashed run never blocks the next one. The lock file records the holder's pid for the
message; it is left in place (deleting lock files races with the next locker). Where
``fcntl`` does not exist (Windows) the lock is not taken.
"""

from __future__ import annotations

import os
from pathlib import Path

from dlx.errors import ConfigError

LOCK_NAME = ".dlx-train.lock"


class RunDirectory:
    """Context manager: create ``path`` and hold its run lock until exit."""

    def __init__(self, path):
        self.path = Path(path)
        self._fd = None

    def __enter__(self) -> Path:
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"--out {self.path} exists and is not a directory")
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:
            return self.path
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise ConfigError(f"run directory {self.path} is in use by another `dlx train` "
                              f"(pid {holder}); wait for it or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self.path

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None
