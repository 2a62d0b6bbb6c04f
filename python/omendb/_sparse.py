"""Sparse vector fields: SPLADE-style ``{index: weight}`` vectors, scored by inner product through
an inverted index (docs/hybrid.md, "Sparse vectors"). A collection declares them beside its dense
fields, ``vectors={"dense": omendb.VectorField(384, "cosine"), "splade": omendb.SparseField()}``;
a record may lack any of them.

This module turns sparse vectors as users give them (a dict ``{index: weight}`` or a pair
``(indices, values)``) into what the engine takes: sorted uint32 indices and float32 values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ._errors import InvalidArgumentError

_MAX_INDEX = 2**32 - 1


@dataclass(frozen=True)
class SparseField:
    """A sparse vector field of a collection: ``omendb.SparseField()``. Its vectors are
    ``{index: weight}`` dicts (or ``(indices, values)`` pairs) with indices in [0, 2**32) and
    finite weights; a search ranks the records sharing an index with the query by the inner
    product, largest first (``.score``; ``.distance`` is its negative)."""


def sparse_arrays(vector: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``vector`` as (uint32 indices in increasing order, float32 values). Raises
    InvalidArgumentError naming ``what`` for another type, a bad index, a repeated index or a
    weight that is not a finite number."""
    if isinstance(vector, Mapping):
        indices, values = list(vector.keys()), list(vector.values())
    elif isinstance(vector, tuple) and len(vector) == 2:
        indices, values = vector
    else:
        raise InvalidArgumentError(
            f"{what} must be a dict {{index: weight}} or a pair (indices, values), got "
            f"{type(vector).__name__}")
    index_array = np.asarray(indices)
    if index_array.ndim != 1 or (index_array.size and index_array.dtype.kind not in "iu"):
        raise InvalidArgumentError(f"{what}: indices must be ints")
    index_array = index_array.astype(np.int64, copy=False)
    try:
        value_array = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{what}: weights must be numbers") from None
    if len(index_array) != len(value_array):
        raise InvalidArgumentError(
            f"{what}: {len(index_array)} indices but {len(value_array)} weights")
    if len(index_array) and (index_array.min() < 0 or index_array.max() > _MAX_INDEX):
        raise InvalidArgumentError(f"{what}: indices must be in [0, 2**32)")
    if not np.isfinite(value_array).all():
        raise InvalidArgumentError(f"{what}: weights must be finite")
    order = np.argsort(index_array, kind="stable")
    index_array, value_array = index_array[order], value_array[order]
    if len(index_array) > 1 and (np.diff(index_array) == 0).any():
        raise InvalidArgumentError(f"{what}: an index is given twice")
    return (np.ascontiguousarray(index_array, dtype=np.uint32),
            np.ascontiguousarray(value_array, dtype=np.float32))


def sparse_rows(rows: Any, name: str, number: int, count: int) -> tuple:
    """The sparse vectors of field ``name`` (the engine's field ``number``) for a batch of
    ``count`` records: a list with one vector (or None: the record lacks the field) per record,
    as the engine takes them: (number, presence flags or None, lengths, indices, values)."""
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
        raise InvalidArgumentError(
            f"vectors[{name!r}] must be a list of sparse vectors (dicts), one per id")
    if len(rows) != count:
        raise InvalidArgumentError(f"vectors[{name!r}] has {len(rows)} entries for {count} ids")
    present = None
    if any(row is None for row in rows):
        present = np.fromiter((row is not None for row in rows), dtype=np.uint8, count=count)
    converted = [sparse_arrays(row, f"vectors[{name!r}][{i}]")
                 for i, row in enumerate(rows) if row is not None]
    lengths = np.array([len(indices) for indices, _ in converted], dtype=np.uint32)
    indices = (np.concatenate([i for i, _ in converted]) if converted
               else np.empty(0, dtype=np.uint32))
    values = (np.concatenate([v for _, v in converted]) if converted
              else np.empty(0, dtype=np.float32))
    return (number, present, lengths, np.ascontiguousarray(indices, dtype=np.uint32),
            np.ascontiguousarray(values, dtype=np.float32))


def sparse_query(query: Any, name: str) -> tuple:
    """A sparse query for field ``name`` as the engine takes it: (name, indices, values); an
    empty query is an InvalidArgumentError."""
    indices, values = sparse_arrays(query, f"the query of sparse field {name!r}")
    if len(indices) == 0:
        raise InvalidArgumentError(f"the query of sparse field {name!r} is empty")
    return (name, indices, values)
