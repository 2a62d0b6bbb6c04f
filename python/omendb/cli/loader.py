"""The work of ``omendb import``: check every row of the file first, then write it in batches, so a
bad file changes nothing and an interrupted import resumes with ``--on-existing skip``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import click
from rich.progress import Progress

import omendb

from . import database
from .errors import CliError
from .formats import Batch, FileFormatError, Reader


@dataclass(frozen=True)
class Settings:
    """How an import writes."""

    on_existing: str  # ids already in the collection: "error" (stop first), "skip" or "upsert"
    batch_size: int
    create: bool  # create the database when PATH does not exist
    metric: Optional[str]  # for a new collection (None: the API's default); an existing one must match
    quantization: Optional[str]  # likewise
    m: int  # for a new collection only
    ef_construction: int  # for a new collection only


def run(path: Path, name: str, reader: Reader, settings: Settings, progress: Progress) -> dict:
    """Import the rows of ``reader`` into collection ``name`` of the database at ``path``, creating
    the collection (and with ``settings.create`` the database) when missing. Returns counts."""
    _check_options(name, reader.dim, settings)
    db = database.open_existing(path, read_only=False) if database.exists(path) else None
    if db is None:
        _check_creatable(path, settings.create)
    try:
        collection = None if db is None else database.find_collection(db, name)
        if collection is not None:
            _check_fits(collection, reader, settings)
        refuse_present = collection is not None and settings.on_existing == "error" and len(collection) > 0
        _check_rows(reader, settings.batch_size, collection if refuse_present else None, progress)
        if db is None:
            db = omendb.open(path)
        return _write_rows(db, name, collection, reader, settings, progress)
    finally:
        if db is not None:
            db.close()


def _check_options(name: str, dim: int, settings: Settings) -> None:
    """UsageError when the collection could not be created with these options (name, metric, m,
    ...): tried on a database in memory, so the engine's own rules apply and nothing is written."""
    with omendb.open(":memory:") as scratch:
        try:
            scratch.collection(
                name,
                dim=dim,
                metric=settings.metric,
                m=settings.m,
                ef_construction=settings.ef_construction,
                quantization=settings.quantization,
            )
        except omendb.InvalidArgumentError as error:
            raise click.UsageError(str(error)) from None


def _check_creatable(path: Path, create: bool) -> None:
    """CliError unless --create was given and ``path`` is missing or an empty folder (a database is
    never made among other files)."""
    if not create:
        raise CliError(f"{database.missing_message(path)}; pass --create to make one")
    if path.exists() and not (path.is_dir() and not any(path.iterdir())):
        raise CliError(f"'{path}' exists and is not a database; --create makes one only in a new or empty folder")


def _check_fits(collection: omendb.Collection, reader: Reader, settings: Settings) -> None:
    """CliError when the file's vectors or the options given do not fit the existing collection."""
    if collection.dim != reader.dim:
        raise CliError(
            f"{reader.path} holds vectors of dim {reader.dim}; collection {collection.name!r} has dim {collection.dim}"
        )
    for option, wanted, actual in (
        ("--metric", settings.metric, collection.metric),
        ("--quantization", settings.quantization, collection.quantization),
    ):
        if wanted is not None and wanted != actual:
            raise CliError(f"collection {collection.name!r} exists with {option[2:]} {actual!r}, not {wanted!r}")


def _check_rows(reader: Reader, batch_size: int, refuse_in: Optional[omendb.Collection], progress: Progress) -> None:
    """First pass: read and check every row (ids, vectors, metadata), refuse an id that repeats in the
    file or (``refuse_in``) is in that collection already."""
    task = progress.add_task(f"checking {reader.path.name}", total=reader.rows)
    seen: set = set()
    for batch in reader.batches(batch_size):
        fresh = set(batch.ids)
        if len(fresh) != len(batch) or not seen.isdisjoint(fresh):
            _report_repeat(batch, seen)
        seen |= fresh
        if refuse_in is not None:
            present = [i for i, record in enumerate(refuse_in.get(batch.ids)) if record is not None]
            if present:
                raise CliError(
                    f"{batch.locate(present[0])}: id {batch.ids[present[0]]!r} is already in collection "
                    f"{refuse_in.name!r}; pass --on-existing skip to leave such records as they are, or "
                    "--on-existing upsert to replace them"
                )
        progress.advance(task, len(batch))


def _report_repeat(batch: Batch, seen: set) -> None:
    """FileFormatError naming the first id of ``batch`` that is in ``seen`` or earlier in the batch."""
    local: set = set()
    for i, id_ in enumerate(batch.ids):
        if id_ in seen or id_ in local:
            raise FileFormatError(f"{batch.locate(i)}: id {id_!r} appears earlier in the file")
        local.add(id_)


def _write_rows(
    db: omendb.Database,
    name: str,
    collection: Optional[omendb.Collection],
    reader: Reader,
    settings: Settings,
    progress: Progress,
) -> dict:
    """Second pass: create the collection when missing and write the rows batch by batch (each batch
    all or nothing). On failure, a collection created here and still empty is dropped again."""
    created = collection is None
    if collection is None:
        collection = db.collection(
            name,
            dim=reader.dim,
            metric=settings.metric,
            m=settings.m,
            ef_construction=settings.ef_construction,
            quantization=settings.quantization,
        )
    skip_present = settings.on_existing == "skip" and len(collection) > 0
    store = collection.upsert if settings.on_existing == "upsert" else collection.add
    task = progress.add_task(f"importing {reader.path.name}", total=reader.rows)
    written = skipped = 0
    try:
        for batch in reader.batches(settings.batch_size):
            rows = len(batch)
            if skip_present:
                keep = [i for i, record in enumerate(collection.get(batch.ids)) if record is None]
                skipped += len(batch) - len(keep)
                batch = batch.subset(keep)
            if len(batch):
                store(batch.ids, batch.vectors, batch.metadata)
                written += len(batch)
            progress.advance(task, rows)
    except (omendb.Error, CliError, KeyboardInterrupt) as error:
        if created and written == 0:
            db.drop_collection(name)
        raise _stopped(error, written + skipped, reader.path) from None
    return {"created_collection": created, "written": written, "skipped": skipped}


def _stopped(error: BaseException, done: int, path: Path) -> CliError:
    """The error that ends an import stopped part-way, saying how to resume it."""
    interrupted = isinstance(error, KeyboardInterrupt)
    if interrupted:
        cause = "interrupted"
    elif isinstance(error, CliError):
        cause = error.message
    else:
        cause = f"{type(error).__name__}: {error}"
    exit_code = 130 if interrupted else 1
    if done == 0:
        return CliError(f"{cause}; nothing was imported", exit_code)
    return CliError(
        f"{cause} after {done:,} rows of {path} were imported; run the same command with --on-existing skip "
        "to import the rest",
        exit_code,
    )
