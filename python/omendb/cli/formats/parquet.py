"""Parquet files: an id column, a vector column (a list of numbers) and metadata columns, read in
streaming batches (pyarrow's iter_batches) and written so that re-import is exact: ids as strings,
vectors as fixed-size lists of float32, each metadata key a column of its type (bool, int64, float64,
string, list of string), or of JSON text when a key's values mix types or hold null."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import omendb

from .batch import Batch, FileFormatError, Locate, check_ids, float32_rows
from .columns import Columns
from .values import check_metadata
from .writing import chunks, vectors

# Field metadata that marks a string column holding one JSON value per row (null: key absent).
JSON_MARK = b"omendb.json"

# The column type of a metadata key whose values all have one of these types.
ARROW_TYPES = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string(), list: pa.list_(pa.string())}

_ABSENT = object()  # a null cell: the record has no such metadata key


class ParquetReader:
    """The records of a Parquet file; metadata nulls mean "no such key"."""

    def __init__(self, path: Path, columns: Columns) -> None:
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as error:
            raise FileFormatError(f"{path}: not a readable Parquet file ({error})") from None
        self.path, self.rows, self._columns = path, self._file.metadata.num_rows, columns
        schema = self._file.schema_arrow
        if self.rows == 0:
            raise FileFormatError(f"{path} holds no rows")
        if columns.id is not None:
            id_type = self._field(schema, columns.id, "--id-column").type
            if not (pa.types.is_string(id_type) or pa.types.is_large_string(id_type) or pa.types.is_integer(id_type)):
                raise FileFormatError(
                    f"{path}: id column {columns.id!r} has type {id_type}; ids need strings or integers"
                )
        self.dim = self._dim(self._field(schema, columns.vector, "--vector-column"))
        # metadata column name -> whether it holds JSON text
        self._metadata_columns = {
            name: _is_json(path, schema.field(name)) for name in columns.metadata_of(path, schema.names)
        }

    def _field(self, schema: pa.Schema, name: str, option: str) -> pa.Field:
        if name not in schema.names:
            raise FileFormatError(
                f"{self.path} has no column {name!r} (columns: {', '.join(schema.names)}); pass {option}"
            )
        return schema.field(name)

    def _dim(self, field: pa.Field) -> int:
        kind = field.type
        if not (pa.types.is_fixed_size_list(kind) or pa.types.is_list(kind) or pa.types.is_large_list(kind)):
            raise FileFormatError(
                f"{self.path}: vector column {field.name!r} has type {kind}; vectors need a list of numbers"
            )
        if not (pa.types.is_floating(kind.value_type) or pa.types.is_integer(kind.value_type)):
            raise FileFormatError(f"{self.path}: vector column {field.name!r} holds {kind.value_type}, not numbers")
        if pa.types.is_fixed_size_list(kind):
            return kind.list_size
        first = next(self._file.iter_batches(batch_size=1, columns=[field.name])).column(0)[0]
        if not first.is_valid or len(first) == 0:
            raise FileFormatError(f"{self.path} row 0: the vector is null or empty")
        return len(first)

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """The rows ``batch_size`` at a time, checked and converted."""
        names = [
            self._columns.vector,
            *([self._columns.id] if self._columns.id is not None else []),
            *self._metadata_columns,
        ]
        start = 0
        try:
            for rows in self._file.iter_batches(batch_size=batch_size, columns=list(dict.fromkeys(names))):

                def locate(i: int, start: int = start) -> str:
                    return f"{self.path} row {start + i}"

                vectors = float32_rows(_vector_values(rows.column(self._columns.vector), self.dim, locate), locate)
                yield Batch(self._ids(rows, start, locate), vectors, self._metadata(rows, locate), locate)
                start += rows.num_rows
        except pa.ArrowException as error:
            raise FileFormatError(f"{self.path}: cannot read the rows from row {start} on ({error})") from None

    def _ids(self, rows: pa.RecordBatch, start: int, locate: Locate) -> list:
        if self._columns.id is None:
            return [str(row) for row in range(start, start + rows.num_rows)]
        column = rows.column(self._columns.id)
        if column.null_count:
            raise FileFormatError(f"{locate(_first(pc.is_null(column)))}: the id is null")
        ids = column.to_pylist()
        if pa.types.is_integer(column.type):
            ids = [str(id_) for id_ in ids]
        check_ids(ids, locate)
        return ids

    def _metadata(self, rows: pa.RecordBatch, locate: Locate) -> Optional[list]:
        if not self._metadata_columns:
            return None
        values = [_cells(rows.column(name), name, is_json, locate) for name, is_json in self._metadata_columns.items()]
        names = list(self._metadata_columns)
        records = [{name: value for name, value in zip(names, row) if value is not _ABSENT} for row in zip(*values)]
        for i, record in enumerate(records):
            check_metadata(record, locate(i))
        return records


def _is_json(path: Path, field: pa.Field) -> bool:
    """Whether the metadata column ``field`` holds JSON text; FileFormatError for a type that
    OmenDB metadata cannot hold."""
    kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if text and field.metadata and field.metadata.get(JSON_MARK) == b"1":
        return True
    lists = (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and (
        pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
    )
    simple = (
        pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)
    )
    if not (text or lists or simple):
        raise FileFormatError(
            f"{path}: column {field.name!r} has type {field.type}, which OmenDB metadata cannot hold "
            "(bool, integer, floating point, string, list of string)"
        )
    return False


def _cells(column: pa.Array, name: str, is_json: bool, locate: Locate) -> list:
    """A metadata column's values, _ABSENT for nulls; JSON text decoded."""
    values = column.to_pylist()
    if not is_json:
        return [_ABSENT if value is None else value for value in values]
    cells = []
    for i, text in enumerate(values):
        try:
            cells.append(_ABSENT if text is None else json.loads(text))
        except json.JSONDecodeError as error:
            raise FileFormatError(f"{locate(i)}, field {name!r}: not valid JSON ({error.msg})") from None
    return cells


def _vector_values(column: pa.Array, dim: int, locate: Locate) -> np.ndarray:
    """A list column as a (rows, dim) array; FileFormatError for a null or a list of another length."""
    if column.null_count:
        raise FileFormatError(f"{locate(_first(pc.is_null(column)))}: the vector is null")
    if not pa.types.is_fixed_size_list(column.type):
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
        if (lengths != dim).any():
            row = int(np.argmax(lengths != dim))
            raise FileFormatError(f"{locate(row)}: the vector has {lengths[row]} components; the first row has {dim}")
    values = column.flatten()
    if values.null_count:
        raise FileFormatError(f"{locate(_first(pc.is_null(values)) // dim)}: the vector holds a null")
    return values.to_numpy(zero_copy_only=False).reshape(len(column), dim)


def _first(mask: pa.Array) -> int:
    return int(np.argmax(mask.to_numpy(zero_copy_only=False)))


def write(
    path: Path,
    records: Sequence[omendb.Record],
    dim: int,
    columns: Columns,
    batch_size: int,
    advance: Callable[[int], None],
) -> None:
    """Write the records, in their order: id, vector, then one column per metadata key."""
    kinds: dict = {}
    for record in records:
        for key, value in record.metadata.items():
            kinds.setdefault(key, set()).add(type(value))
    columns.check_keys(kinds)
    schema = pa.schema(
        [
            pa.field(columns.id, pa.string(), nullable=False),
            pa.field(columns.vector, pa.list_(pa.float32(), dim), nullable=False),
            *(_metadata_field(key, types) for key, types in kinds.items()),
        ]
    )
    with pq.ParquetWriter(path, schema) as out:
        for chunk in chunks(records, batch_size):
            arrays = [
                pa.array([record.id for record in chunk], pa.string()),
                pa.FixedSizeListArray.from_arrays(pa.array(vectors(chunk, dim).reshape(-1)), dim),
                *(_metadata_array(chunk, field) for field in list(schema)[2:]),
            ]
            out.write_batch(pa.record_batch(arrays, schema=schema))
            advance(len(chunk))


def _metadata_field(key: str, types: set) -> pa.Field:
    """A typed column when every value of ``key`` has one type, else a column of JSON text."""
    if len(types) == 1 and next(iter(types)) in ARROW_TYPES:
        return pa.field(key, ARROW_TYPES[next(iter(types))])
    return pa.field(key, pa.string(), metadata={JSON_MARK: b"1"})


def _metadata_array(chunk: Sequence[omendb.Record], field: pa.Field) -> pa.Array:
    if field.metadata:
        cells = [
            json.dumps(r.metadata[field.name], ensure_ascii=False) if field.name in r.metadata else None for r in chunk
        ]
        return pa.array(cells, pa.string())
    return pa.array([record.metadata.get(field.name) for record in chunk], field.type)
