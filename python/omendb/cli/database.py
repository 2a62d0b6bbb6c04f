"""Opening a database folder for a command, without ever creating one by accident."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import omendb

from .errors import CliError

MANIFEST = "MANIFEST"  # the file every database folder holds (docs/format.md, "Database folder")


def exists(path: Path) -> bool:
    """Whether ``path`` is a database: a folder holding a MANIFEST."""
    return (path / MANIFEST).is_file()


def missing_message(path: Path) -> str:
    """Why ``path`` is not a database, in one line."""
    if not path.exists():
        return f"no database at '{path}' (no such folder)"
    if not path.is_dir():
        return f"no database at '{path}' (it is a file, not a folder)"
    return f"no database at '{path}' (the folder holds no {MANIFEST})"


def open_existing(path: Path, read_only: bool) -> omendb.Database:
    """Open the database at ``path``; CliError when there is none there (nothing is created)."""
    if not exists(path):
        raise CliError(missing_message(path))
    return omendb.open(path, read_only=read_only)


def find_collection(db: omendb.Database, name: str) -> Optional[omendb.Collection]:
    """The collection ``name``, or None when the database has none of that name."""
    return db.collection(name) if name in db.collections() else None


def collection(db: omendb.Database, name: str) -> omendb.Collection:
    """The collection ``name``; CliError naming the collections there are when it does not exist."""
    found = find_collection(db, name)
    if found is None:
        names = ", ".join(repr(existing) for existing in db.collections()) or "none"
        raise CliError(f"no collection {name!r} in '{db.path}' (collections: {names})")
    return found


def files(path: Path) -> list[tuple[str, int]]:
    """Every file under the folder ``path``: (path relative to it, size in bytes), sorted by path."""
    found = []
    for folder, _, names in os.walk(path):
        for name in names:
            full = Path(folder) / name
            try:
                found.append((full.relative_to(path).as_posix(), full.stat().st_size))
            except FileNotFoundError:  # removed meanwhile by the writer's checkpoint
                continue
    return sorted(found)
