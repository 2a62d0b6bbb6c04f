"""``omendb check PATH``: verify a database without opening it for writes."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NoReturn

import click
import numpy as np

import omendb

from . import database, output
from .errors import CliError
from .options import batch_size_option, json_option, quiet_option

# What a successful check has verified, in the order it happens.
CHECKS = [
    "manifest checksum",
    "size and CRC-32C of every snapshot file",
    "structure of every snapshot file",
    "checksums of every log record (replayed)",
    "every record read by a full scan and again by id",
]


@click.command("check", short_help="Verify every checksum, the structure and every record.")
@click.argument("path", type=click.Path(path_type=Path))
@batch_size_option
@quiet_option
@json_option
def command(path: Path, batch_size: int, quiet: bool, as_json: bool) -> None:
    """Verify the database at PATH: open it read-only (which checks the size and CRC-32C of every
    snapshot file, the structure of each, and replays the log, checking each record's checksums),
    then read every record back, by a full scan and again by id. Exit code 1 names the first fault."""
    with database.open_existing(path, read_only=True) as db, output.progress(quiet) as bar:
        checked = []
        for name in db.collections():
            collection = db.collection(name)
            task = bar.add_task(f"checking {name}", total=len(collection))
            records = _check_collection(collection, batch_size, lambda done, task=task: bar.advance(task, done))
            checked.append({"name": name, "records": records, "dim": collection.dim, "metric": collection.metric})
    files = database.files(path)
    total = sum(size for _, size in files)
    if as_json:
        output.emit_json(
            {
                "path": str(path),
                "ok": True,
                "checked": CHECKS,
                "collections": checked,
                "files": len(files),
                "bytes": total,
            }
        )
        return
    records = sum(entry["records"] for entry in checked)
    output.emit(
        f"ok: {path}: {len(files)} files ({output.size(total)}) verified; {len(checked)} collections, "
        f"{records:,} records read back by scan and by id"
    )


def _check_collection(collection: omendb.Collection, batch_size: int, advance: Callable[[int], None]) -> int:
    """Read every record of ``collection`` by a scan and again by id, in batches; CliError at the
    first disagreement. Returns the number of records."""
    records = collection.get(where={})
    size = len(collection)
    if len(records) != size or collection.count() != size:
        _fail(
            collection,
            f"holds {size:,} records, but a scan returns {len(records):,} and count() {collection.count():,}",
        )
    if len({record.id for record in records}) != size:
        _fail(collection, "a scan returns some id twice")
    for start in range(0, size, batch_size):
        scanned = records[start : start + batch_size]
        for record, again in zip(scanned, collection.get([record.id for record in scanned])):
            if again is None or again.id != record.id:
                _fail(collection, f"record {record.id!r} is found by a scan but not by its id")
            if record.vector.shape != (collection.dim,) or not np.isfinite(record.vector).all():
                _fail(
                    collection, f"record {record.id!r} has a vector of shape {record.vector.shape} or non-finite values"
                )
            if not np.array_equal(again.vector, record.vector) or again.metadata != record.metadata:
                _fail(collection, f"record {record.id!r} differs between a scan and a read by id")
        advance(len(scanned))
    return size


def _fail(collection: omendb.Collection, problem: str) -> NoReturn:
    raise CliError(f"check failed: collection {collection.name!r} {problem}")
