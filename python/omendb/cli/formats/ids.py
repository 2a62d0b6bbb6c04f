"""Ids for files that hold only vectors (.npy, .fvecs, .bvecs): row numbers, or a text file with one
id per line (the sidecar that export writes beside such files)."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .batch import FileFormatError, check_ids


class RowNumbers:
    """Ids made of a prefix and the row number, counted from 0: "0", "1", ... or "doc-0", ..."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def batches(self, sizes: Iterable[int], rows: int) -> Iterator[list]:
        """One list of ids per size, numbering rows consecutively; FileFormatError when the prefix
        makes invalid ids (the last one is the longest)."""
        check_ids([f"{self.prefix}{rows - 1}"], lambda i: f"--id-prefix {self.prefix!r}")
        start = 0
        for size in sizes:
            yield [f"{self.prefix}{row}" for row in range(start, start + size)]
            start += size


class IdLines:
    """Ids read from a UTF-8 text file, one per line (a trailing "\\r" is dropped)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def batches(self, sizes: Iterable[int], rows: int) -> Iterator[list]:
        """One list of ids per size, read in order; FileFormatError when the file does not hold
        exactly ``rows`` ids (checked once the sizes are exhausted) or holds an invalid id."""
        with open(self.path, encoding="utf-8", newline="\n") as lines:
            read = 0
            try:
                for size in sizes:
                    ids = [_line_id(line) for line in islice(lines, size)]
                    check_ids(ids, lambda i, first=read + 1: f"{self.path} line {first + i}")
                    read += len(ids)
                    if len(ids) < size:
                        raise FileFormatError(f"{self.path} holds {read:,} ids; the data file has {rows:,} rows")
                    yield ids
                if lines.readline():
                    raise FileFormatError(f"{self.path} holds more ids than the {rows:,} rows of the data file")
            except UnicodeDecodeError as error:
                raise FileFormatError(f"{self.path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def _line_id(line: str) -> str:
    line = line[:-1] if line.endswith("\n") else line
    return line[:-1] if line.endswith("\r") else line


def write_lines(path: Path, ids: Sequence[str]) -> None:
    """Write ``ids`` one per line; FileFormatError for an id holding a line break (such ids need a
    Parquet or JSONL export)."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for id_ in ids:
            if "\n" in id_ or "\r" in id_:
                raise FileFormatError(
                    f"id {id_!r} holds a line break, which an ids file cannot hold; export to .parquet or .jsonl"
                )
            out.write(id_)
            out.write("\n")
