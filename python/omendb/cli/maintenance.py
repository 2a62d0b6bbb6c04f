"""``omendb compact`` and ``omendb checkpoint``: maintenance a writer runs by itself, on demand."""

from __future__ import annotations

from pathlib import Path

import click

from . import database, output
from .options import json_option


@click.command("compact", short_help="Rebuild collections without their deleted records.")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("collections", nargs=-1)
@json_option
def compact(path: Path, collections: tuple, as_json: bool) -> None:
    """Rebuild COLLECTIONS (default: all) of the database at PATH without their deleted records,
    and report the slots reclaimed. Needs the write lock."""
    with database.open_existing(path, read_only=False) as db:
        chosen = [database.collection(db, name) for name in collections or db.collections()]
        reclaimed = [{"name": collection.name, "reclaimed": collection.compact()} for collection in chosen]
    if as_json:
        output.emit_json({"path": str(path), "collections": reclaimed})
        return
    rows = [[entry["name"], entry["reclaimed"]] for entry in reclaimed]
    output.emit_tables(output.table(f"Compacted {path}", ["collection", "slots reclaimed"], rows))


@click.command("checkpoint", short_help="Write snapshot files and start an empty log.")
@click.argument("path", type=click.Path(path_type=Path))
@json_option
def checkpoint(path: Path, as_json: bool) -> None:
    """Write the changed collections of the database at PATH to snapshot files and start an empty
    log, so the next open replays nothing. Needs the write lock."""
    with database.open_existing(path, read_only=False) as db:
        db.checkpoint()
    if as_json:
        output.emit_json({"path": str(path), "checkpointed": True})
        return
    output.emit(f"checkpoint written: {path}")
