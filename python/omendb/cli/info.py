"""``omendb info PATH``: a database's collections and files."""

from __future__ import annotations

from pathlib import Path

import click

from . import database, output
from .options import json_option


@click.command("info", short_help="Show collections, their settings, and the files with their sizes.")
@click.argument("path", type=click.Path(path_type=Path))
@json_option
def command(path: Path, as_json: bool) -> None:
    """Show the collections of the database at PATH (records, dim, metric, quantization, m,
    ef_construction) and its files with their sizes. Opens it read-only: works while another
    process writes it."""
    with database.open_existing(path, read_only=True) as db:
        collections = [
            {
                "name": name,
                "count": len(collection),
                "dim": collection.dim,
                "metric": collection.metric,
                "quantization": collection.quantization,
                "m": collection.m,
                "ef_construction": collection.ef_construction,
            }
            for name, collection in ((name, db.collection(name)) for name in db.collections())
        ]
    files = [{"path": name, "bytes": size} for name, size in database.files(path)]
    total = sum(file["bytes"] for file in files)
    if as_json:
        output.emit_json({"path": str(path), "collections": collections, "files": files, "bytes": total})
        return
    output.emit_tables(
        output.table(
            f"Collections in {path}",
            ["name", "records", "dim", "metric", "quantization", "m", "ef_construction"],
            [list(collection.values()) for collection in collections],
        ),
        output.table("Files", ["file", "bytes"], [[file["path"], file["bytes"]] for file in files]),
    )
    output.emit(f"{len(files)} files, {output.size(total)} ({total:,} bytes)")
