"""``omendb search PATH COLLECTION``: nearest records to a vector, or to each row of a file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import numpy as np

from . import database, output
from .formats import Columns, RowNumbers, format_of, open_reader
from .options import format_option, json_option, parse_vector, vector_column_option, where_option


@click.command("search", short_help="Print the records nearest to a vector (or to each row of a file).")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("collection")
@click.option("--vector", callback=parse_vector, help="The query: numbers separated by commas or spaces.")
@click.option(
    "--from",
    "queries_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of queries in any import format; each row is one query.",
)
@format_option
@vector_column_option
@click.option("-k", "--k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Hits per query.")
@click.option("--ef", type=click.IntRange(min=1), help="Candidate list size of the graph search (default max(64, k)).")
@click.option("--exact", is_flag=True, help="Scan every vector instead of walking the graph.")
@where_option
@json_option
def command(
    path: Path,
    collection: str,
    vector: Optional[np.ndarray],
    queries_file: Optional[Path],
    fmt: Optional[str],
    vector_column: str,
    k: int,
    ef: Optional[int],
    exact: bool,
    where: object,
    as_json: bool,
) -> None:
    """Print the K records of COLLECTION nearest to the query (--vector) or to each row of a file
    (--from FILE), best first, with their distances and metadata. Opens the database read-only."""
    if (vector is None) == (queries_file is None):
        raise click.UsageError("give the query with --vector or with --from FILE, one of them")
    queries = [vector] if vector is not None else _queries(queries_file, fmt, vector_column)
    with database.open_existing(path, read_only=True) as db:
        searched = database.collection(db, collection)
        results = [searched.search(query, k=k, ef=ef, exact=exact, where=where) for query in queries]
    found = [
        {"query": index, "hits": [{"id": hit.id, "distance": hit.distance, "metadata": hit.metadata} for hit in hits]}
        for index, hits in enumerate(results)
    ]
    if as_json:
        output.emit_json({"collection": collection, "k": k, "queries": found})
        return
    several = len(found) > 1
    rows = [
        ([entry["query"]] if several else []) + [rank, hit["id"], hit["distance"], hit["metadata"]]
        for entry in found
        for rank, hit in enumerate(entry["hits"], 1)
    ]
    columns = (["query"] if several else []) + ["rank", "id", "distance", "metadata"]
    output.emit_tables(output.table(f"Nearest in {collection!r}", columns, rows))


def _queries(path: Path, fmt: Optional[str], vector_column: str) -> list:
    """Every row of the file ``path`` as a float32 query vector."""
    reader = open_reader(path, format_of(path, fmt), Columns(id=None, vector=vector_column, metadata=()), RowNumbers())
    return [row for batch in reader.batches(10_000) for row in batch.vectors]
