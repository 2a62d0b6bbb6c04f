"""``omendb export PATH COLLECTION FILE``: a collection's records to a file that import reads back
exactly."""

from __future__ import annotations

import time
from operator import attrgetter
from pathlib import Path
from typing import Optional

import click

from . import database, output
from .errors import CliError
from .formats import ARRAY_FORMATS, Columns, format_of, write, write_lines
from .formats.writing import replacing
from .options import (
    batch_size_option,
    format_option,
    id_column_option,
    json_option,
    quiet_option,
    vector_column_option,
    where_option,
)


@click.command("export", short_help="Write a collection to .parquet, .jsonl, .npy, .fvecs or .bvecs.")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("collection")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@format_option
@click.option(
    "--ids",
    "ids_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=".npy/.fvecs/.bvecs: where to write the ids, one per line (default: FILE with the extension .ids.txt).",
)
@id_column_option
@vector_column_option
@where_option
@click.option("--overwrite", is_flag=True, help="Replace FILE (and the ids file) when they exist.")
@batch_size_option
@quiet_option
@json_option
def command(
    path: Path,
    collection: str,
    file: Path,
    fmt: Optional[str],
    ids_file: Optional[Path],
    id_column: str,
    vector_column: str,
    where: object,
    overwrite: bool,
    batch_size: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Write the records of COLLECTION (or those matching --where) to FILE, in id order: .parquet and
    .jsonl hold ids, vectors and metadata; .npy, .fvecs and .bvecs hold the vectors, and the ids go
    to a text file beside them, one per line (import it with --ids). Opens the database read-only;
    FILE appears only once complete."""
    fmt = format_of(file, fmt)
    if ids_file is not None and fmt not in ARRAY_FORMATS:
        raise click.UsageError(f"--ids goes with .npy, .fvecs and .bvecs files; a .{fmt} file holds its ids")
    if fmt in ARRAY_FORMATS and ids_file is None:
        ids_file = file.with_suffix(".ids.txt")
    outputs = [file] + ([ids_file] if ids_file is not None else [])
    for existing in outputs:
        if existing.exists() and not overwrite:
            raise CliError(f"{existing} exists; pass --overwrite to replace it")
    began = time.perf_counter()
    with database.open_existing(path, read_only=True) as db:
        exported = database.collection(db, collection)
        records = exported.get(where={} if where is None else where)
        dim = exported.dim
    records.sort(key=attrgetter("id"))
    columns = Columns(id=id_column, vector=vector_column)
    with output.progress(quiet) as bar, replacing(*outputs) as partial:
        task = bar.add_task(f"exporting {file.name}", total=len(records))
        write(partial[0], fmt, records, dim, columns, batch_size, lambda done: bar.advance(task, done))
        if ids_file is not None:
            write_lines(partial[1], [record.id for record in records])
    summary = {
        "collection": collection,
        "file": str(file),
        "format": fmt,
        "ids_file": None if ids_file is None else str(ids_file),
        "rows": len(records),
        "seconds": round(time.perf_counter() - began, 3),
    }
    if as_json:
        output.emit_json(summary)
        return
    ids_note = f"; ids in {ids_file} (import with --ids {ids_file})" if ids_file is not None else ""
    output.emit(f"exported {len(records):,} records of {collection!r} to {file}{ids_note}")
