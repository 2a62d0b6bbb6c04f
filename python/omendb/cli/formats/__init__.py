"""The files that import reads and export writes: .npy, .fvecs, .bvecs, .parquet and .jsonl."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

import click

import omendb

from ..errors import CliError
from . import jsonl, npy, vecs
from .arrays import IdSource
from .batch import Batch, FileFormatError, Reader
from .columns import Columns
from .ids import IdLines, RowNumbers, write_lines

__all__ = [
    "ARRAY_FORMATS",
    "FORMATS",
    "Batch",
    "Columns",
    "FileFormatError",
    "IdLines",
    "Reader",
    "RowNumbers",
    "format_of",
    "open_reader",
    "write",
    "write_lines",
]

FORMATS = ("npy", "fvecs", "bvecs", "parquet", "jsonl")
ARRAY_FORMATS = ("npy", "fvecs", "bvecs")  # vectors only: ids are row numbers or come from an ids file

_SUFFIXES = {".pq": "parquet", ".ndjson": "jsonl", **{f".{fmt}": fmt for fmt in FORMATS}}


def format_of(path: Path, given: Optional[str]) -> str:
    """The format ``given`` (--format), else the one the extension of ``path`` names; UsageError when
    neither says."""
    if given is not None:
        return given
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise click.UsageError(
            f"cannot tell the format of '{path}' from its extension; pass --format {'|'.join(FORMATS)}"
        )
    return fmt


def open_reader(path: Path, fmt: str, columns: Columns, ids: IdSource) -> Reader:
    """A reader of ``path``: ``ids`` give the ids of array formats, ``columns`` say where Parquet and
    JSONL files keep theirs. Checks what can be checked without reading the rows (FileFormatError)."""
    if fmt == "npy":
        return npy.reader(path, ids)
    if fmt in ("fvecs", "bvecs"):
        return vecs.reader(path, fmt, ids)
    if fmt == "parquet":
        return _parquet().ParquetReader(path, columns)
    return jsonl.JsonlReader(path, columns)


def write(
    path: Path,
    fmt: str,
    records: Sequence[omendb.Record],
    dim: int,
    columns: Columns,
    batch_size: int,
    advance: Callable[[int], None],
) -> None:
    """Write ``records`` to ``path`` in their order (array formats: the vectors only), calling
    ``advance(n)`` after each batch of n."""
    if fmt == "npy":
        npy.write(path, records, dim, batch_size, advance)
    elif fmt in ("fvecs", "bvecs"):
        vecs.write(path, fmt, records, dim, batch_size, advance)
    elif fmt == "parquet":
        _parquet().write(path, records, dim, columns, batch_size, advance)
    else:
        jsonl.write(path, records, columns, batch_size, advance)


def _parquet():  # noqa: ANN202 (a module)
    """The Parquet module, imported on first use (pyarrow takes a while to import)."""
    try:
        from . import parquet
    except ImportError as error:
        raise CliError(f"Parquet files need pyarrow ({error}); install it with pip install 'omendb[cli]'") from None
    return parquet
