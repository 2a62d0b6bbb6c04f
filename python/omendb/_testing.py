"""For OmenDB's own tests, not for users: a database whose file operations fail on demand.

``db, faults = open_with_faults(path, sync="full", ...)`` opens ``path`` as ``omendb.open`` does,
but through the engine's fault-injecting file system (src/storage/fault_injection_env.h) over the
real one. Then ``faults.fail("append", error="ENOSPC")`` makes the next append fail as a full
disk would, ``faults.disk_full(bytes_left=100)`` lets appends write 100 more bytes in all (the one
that crosses the limit writes what fits and fails), and ``faults.clear()`` gives the space back.
Failures surface as ``omendb.StorageError`` naming the operation, the file and the error.
"""

from __future__ import annotations

import os
from typing import Optional

from . import _core
from ._api import Database, _open

OPS = ("create", "append", "sync", "sync_dir", "rename", "remove", "truncate")
ERRORS = ("EIO", "ENOSPC")


class Faults:
    """The failures to inject into one database's file operations."""

    def __init__(self) -> None:
        self._env = _core.FaultInjectionEnv()

    def fail(self, op: str, nth: int = 1, *, and_later: bool = False, error: str = "EIO") -> None:
        """Make the ``nth`` call of ``op`` from now (one of OPS) fail with ``error`` (EIO or
        ENOSPC), without touching the disk; with ``and_later``, every call after it too."""
        self._env.fail_nth(op, nth, and_later, error)

    def disk_full(self, bytes_left: int = 0) -> None:
        """Let appends write ``bytes_left`` more bytes in all, then fail with ENOSPC."""
        self._env.set_space_left(bytes_left)

    def clear(self) -> None:
        """Remove every fault and the space limit: the disk works again."""
        self._env.clear_faults()

    def calls(self, op: str) -> int:
        """Calls of ``op`` so far, failed ones included."""
        return self._env.calls(op)


def open_with_faults(
    path: str | os.PathLike,
    *,
    read_only: bool = False,
    sync: str = "full",
    threads: Optional[int] = None,
    checkpoint_log_bytes: int = 64 << 20,
) -> tuple[Database, Faults]:
    """``omendb.open(path, ...)`` through a Faults object, returned with the database."""
    faults = Faults()
    return _open(path, read_only, sync, threads, checkpoint_log_bytes, env=faults._env), faults
