"""``omendb import PATH COLLECTION FILE``: records from a file into a collection."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import click

from . import loader, output
from .formats import ARRAY_FORMATS, Columns, IdLines, RowNumbers, format_of, open_reader
from .options import (
    batch_size_option,
    format_option,
    id_column_option,
    json_option,
    quiet_option,
    split_names,
    vector_column_option,
)


@click.command("import", short_help="Read records from .npy, .fvecs, .bvecs, .parquet or .jsonl.")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("collection")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option
@click.option(
    "--ids",
    "ids_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=".npy/.fvecs/.bvecs: a UTF-8 text file with the ids, one per line (default: row numbers).",
)
@click.option("--id-prefix", default="", help=".npy/.fvecs/.bvecs without --ids: ids are this prefix + the row number.")
@id_column_option
@vector_column_option
@click.option(
    "--metadata-columns",
    callback=split_names,
    help="Parquet/JSONL: the metadata columns, comma-separated (default: all but the id and vector columns).",
)
@click.option(
    "--on-existing",
    type=click.Choice(["error", "skip", "upsert"]),
    default="error",
    show_default=True,
    help="Ids already in the collection: stop before writing anything, leave those records as they are "
    "(skip: resumes an interrupted import), or replace them (upsert).",
)
@click.option("--create", is_flag=True, help="Create the database when PATH does not exist or is an empty folder.")
@click.option("--metric", help="New collection: l2 (default), cosine or ip. An existing collection must match.")
@click.option("--quantization", help="New collection: sq8 (default) or none. An existing collection must match.")
@click.option("--m", type=click.IntRange(min=1), default=16, show_default=True, help="New collection: graph degree.")
@click.option(
    "--ef-construction",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="New collection: build-time candidate list size.",
)
@batch_size_option
@quiet_option
@json_option
def command(
    path: Path,
    collection: str,
    file: Path,
    fmt: Optional[str],
    ids_file: Optional[Path],
    id_prefix: str,
    id_column: str,
    vector_column: str,
    metadata_columns: Optional[tuple],
    on_existing: str,
    create: bool,
    metric: Optional[str],
    quantization: Optional[str],
    m: int,
    ef_construction: int,
    batch_size: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Import the records of FILE (.npy, .fvecs, .bvecs, .parquet or .jsonl) into COLLECTION of the
    database at PATH, creating the collection (dim from the file) when it does not exist. The whole
    file is checked before anything is written; then it is written in batches, each all or nothing."""
    fmt = format_of(file, fmt)
    if fmt in ARRAY_FORMATS and metadata_columns is not None:
        raise click.UsageError(
            f"--metadata-columns goes with .parquet and .jsonl files; a .{fmt} file holds vectors only"
        )
    if fmt not in ARRAY_FORMATS and (ids_file is not None or id_prefix):
        raise click.UsageError(
            f"--ids and --id-prefix go with .npy, .fvecs and .bvecs files; pass --id-column for .{fmt}"
        )
    if ids_file is not None and id_prefix:
        raise click.UsageError("--ids and --id-prefix exclude each other")
    ids = IdLines(ids_file) if ids_file is not None else RowNumbers(id_prefix)
    reader = open_reader(file, fmt, Columns(id=id_column, vector=vector_column, metadata=metadata_columns), ids)
    settings = loader.Settings(on_existing, batch_size, create, metric, quantization, m, ef_construction)
    began = time.perf_counter()
    with output.progress(quiet) as bar:
        counts = loader.run(path, collection, reader, settings, bar)
    seconds = time.perf_counter() - began
    summary = {
        "collection": collection,
        "file": str(file),
        "format": fmt,
        "rows": reader.rows,
        **counts,
        "seconds": round(seconds, 3),
        "rows_per_second": round(reader.rows / seconds),
    }
    if as_json:
        output.emit_json(summary)
        return
    skipped = f", {counts['skipped']:,} skipped (already there)" if counts["skipped"] else ""
    output.emit(
        f"imported {file}: {counts['written']:,} records written to {collection!r}{skipped}, "
        f"in {seconds:.1f} s ({summary['rows_per_second']:,} rows/s)"
    )
