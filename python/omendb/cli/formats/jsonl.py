"""JSON Lines files: one JSON object per line holding the id, the vector (a list of numbers) and the
metadata as its other fields. JSON keeps OmenDB's metadata types apart (1 and 1.0, null and absent),
and a float32 written as the shortest decimal of its double reads back to the same bits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

import omendb

from .batch import Batch, FileFormatError, check_ids, float32_rows
from .columns import Columns
from .values import check_metadata
from .writing import chunks


class JsonlReader:
    """The records of a JSON Lines file (blank lines are skipped); messages name lines from 1."""

    def __init__(self, path: Path, columns: Columns) -> None:
        self.path, self._columns = path, columns
        self.rows, first = self._count()
        if first is None:
            raise FileFormatError(f"{path} holds no rows")
        self.dim = len(self._vector(first[1], first[0], None))

    def _count(self) -> tuple:
        """The number of records, and the first one as (line number, object)."""
        rows, first = 0, None
        with open(self.path, "rb") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    rows += 1
                    first = first or (number, self._parse(line, number))
        return rows, first

    def _parse(self, line: bytes, number: int) -> dict:
        try:
            record = json.loads(line)
        except UnicodeDecodeError as error:
            raise FileFormatError(f"{self.path} line {number}: not UTF-8 text ({error.reason})") from None
        except json.JSONDecodeError as error:
            raise FileFormatError(
                f"{self.path} line {number}: not valid JSON ({error.msg}, column {error.colno})"
            ) from None
        if not isinstance(record, dict):
            raise FileFormatError(
                f"{self.path} line {number}: a record must be a JSON object, got {type(record).__name__}"
            )
        return record

    def _vector(self, record: dict, number: int, dim: Optional[int]) -> list:
        vector = record.get(self._columns.vector)
        if not isinstance(vector, list) or not vector or (dim is not None and len(vector) != dim):
            length = f"{dim} " if dim is not None else ""
            raise FileFormatError(
                f"{self.path} line {number}: field {self._columns.vector!r} must be a list of {length}numbers"
                + ("" if self._columns.vector in record else " (it is missing; pass --vector-column)")
            )
        return vector

    def _id(self, record: dict, number: int, row: int) -> str:
        if self._columns.id is None:
            return str(row)
        id_ = record.get(self._columns.id)
        if isinstance(id_, int) and not isinstance(id_, bool):
            return str(id_)
        if not isinstance(id_, str):
            missing = " (it is missing; pass --id-column)" if self._columns.id not in record else ""
            raise FileFormatError(
                f"{self.path} line {number}: field {self._columns.id!r} must be a str or an int{missing}"
            )
        return id_

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """The records ``batch_size`` at a time, checked and converted."""
        pending: list = []
        row = 0
        with open(self.path, "rb") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    pending.append((number, self._parse(line, number)))
                if len(pending) == batch_size:
                    yield self._batch(pending, row)
                    row, pending = row + len(pending), []
        if pending:
            yield self._batch(pending, row)

    def _batch(self, pending: list, row: int) -> Batch:
        numbers = [number for number, _ in pending]

        def locate(i: int) -> str:
            return f"{self.path} line {numbers[i]}"

        ids = [self._id(record, number, row + i) for i, (number, record) in enumerate(pending)]
        check_ids(ids, locate)
        vectors = [self._vector(record, number, self.dim) for number, record in pending]
        values = _numeric(vectors, ndim=2)
        if values is None:
            bad = next((i for i, vector in enumerate(vectors) if _numeric(vector, ndim=1) is None), 0)
            raise FileFormatError(f"{locate(bad)}: field {self._columns.vector!r} must be a list of numbers")
        metadata = [check_metadata(self._metadata_of(record), locate(i)) for i, (_, record) in enumerate(pending)]
        return Batch(ids, float32_rows(values, locate), metadata, locate)

    def _metadata_of(self, record: dict) -> dict:
        chosen = self._columns.metadata
        if chosen is None:
            return {key: value for key, value in record.items() if key not in (self._columns.id, self._columns.vector)}
        return {key: record[key] for key in chosen if key in record}


def _numeric(values: list, ndim: int) -> Optional[np.ndarray]:
    """``values`` (nested lists) as an ``ndim``-D array of numbers, or None when they are not that."""
    try:
        array = np.array(values)
    except (ValueError, TypeError):  # ragged or nested lists
        return None
    return array if array.dtype.kind in "fiu" and array.ndim == ndim else None


def write(
    path: Path,
    records: Sequence[omendb.Record],
    columns: Columns,
    batch_size: int,
    advance: Callable[[int], None],
) -> None:
    """Write one line per record, in their order: {id, vector, metadata fields...}."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for chunk in chunks(records, batch_size):
            for record in chunk:
                columns.check_keys(record.metadata)
                line = {columns.id: record.id, columns.vector: record.vector.tolist(), **record.metadata}
                out.write(json.dumps(line, ensure_ascii=False))
                out.write("\n")
            advance(len(chunk))
