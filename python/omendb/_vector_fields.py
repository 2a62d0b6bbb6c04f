"""Named vector fields: a collection may hold several vectors per record, each field with its own
dimension, metric and graph (README, "Named vectors"). The first field declared is the one every
record has; a record may lack any other.

This module declares fields (``VectorField``) and turns the ``vectors={name: rows}`` argument of
add/upsert into what the engine takes: the first field's matrix and, per further field, presence
flags and the rows of the records that have it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ._errors import InvalidArgumentError
from ._sparse import SparseField

# The name of the single field of a collection created with dim= (and of the first field when
# no other name is given).
DEFAULT_FIELD = "default"

# The quantization of a field or collection created without one (README, "Which default").
DEFAULT_QUANTIZATION = "sq8"


@dataclass(frozen=True)
class VectorField:
    """One named vector field of a collection: ``VectorField(512, "cosine")``.

    dim: vector length. metric: ``"l2"`` (default), ``"cosine"`` or ``"ip"``. m, ef_construction,
    quantization: the field's graph settings, as ``Database.collection`` takes them.
    """

    dim: int
    metric: str = "l2"
    m: int = 16
    ef_construction: int = 100
    quantization: str = DEFAULT_QUANTIZATION

    def settings(self, name: str) -> tuple:
        """The engine's form: (name, dim, metric, m, ef_construction, quantization)."""
        return (name, self.dim, self.metric, self.m, self.ef_construction, self.quantization)


def fields_of(engine_fields: Sequence[tuple]) -> dict:
    """The engine's field settings as {name: VectorField}, in declaration order."""
    return {name: VectorField(dim, metric, m, ef, quantization)
            for name, dim, metric, m, ef, quantization in engine_fields}


def check_declared(vectors: Any) -> dict:
    """``vectors=`` of Database.collection checked: a non-empty dict of str -> VectorField or
    SparseField, whose first field is a VectorField (every record has it)."""
    if not isinstance(vectors, Mapping) or len(vectors) == 0:
        raise InvalidArgumentError(
            "vectors must be a non-empty dict of field name -> omendb.VectorField, got "
            f"{type(vectors).__name__}")
    for name, field in vectors.items():
        if not isinstance(name, str):
            raise InvalidArgumentError(f"vector field names must be str, got {type(name).__name__}")
        if not isinstance(field, (VectorField, SparseField)):
            raise InvalidArgumentError(
                f"vectors[{name!r}] must be an omendb.VectorField or omendb.SparseField, got "
                f"{type(field).__name__}")
    if not isinstance(next(iter(vectors.values())), VectorField):
        raise InvalidArgumentError(
            "the first field of vectors= must be an omendb.VectorField: every record has it")
    return dict(vectors)


def describe(fields: Mapping[str, VectorField]) -> str:
    """``fields`` as "'a' (512, cosine), 'b' (384, l2), 's' (sparse)" for messages."""
    return ", ".join(f"{name!r} (sparse)" if isinstance(field, SparseField) else
                     f"{name!r} ({field.dim}, {field.metric})" for name, field in fields.items())


def split_rows(vectors: Mapping, fields: Mapping[str, VectorField], count: int,
               to_matrix) -> tuple:
    """The ``vectors={name: rows}`` of add/upsert as (first field's rows, further fields).

    Further fields come as a list of (field number, presence flags as uint8 or None, float32
    matrix of the present rows). A field's rows are an array-like of shape (count, dim) or a list
    of count entries where None marks a record without that field. ``to_matrix(values, field,
    dim)`` converts and checks the rows of one field. Raises InvalidArgumentError for an unknown field, a
    missing first field or a wrong number of rows.
    """
    names = list(fields)
    unknown = [name for name in vectors if name not in fields]
    if unknown:
        raise InvalidArgumentError(
            f"unknown vector field {unknown[0]!r}; the collection has {describe(fields)}")
    first = names[0]
    if first not in vectors or vectors[first] is None:
        raise InvalidArgumentError(
            f"vectors must include the field {first!r}: every record has the first field")
    more = []
    for number, name in enumerate(names[1:], start=1):
        rows = vectors.get(name)
        if rows is None:
            continue
        field = fields[name]
        present: Optional[np.ndarray] = None
        if isinstance(rows, list) and any(row is None for row in rows):
            if len(rows) != count:
                raise InvalidArgumentError(
                    f"vectors[{name!r}] has {len(rows)} entries for {count} ids")
            present = np.fromiter((row is not None for row in rows), dtype=np.uint8, count=count)
            given = [row for row in rows if row is not None]
            matrix = (to_matrix(given, name, field.dim) if given
                      else np.empty((0, field.dim), dtype=np.float32))
        else:
            matrix = to_matrix(rows, name, field.dim)
            if matrix.shape[0] != count:
                raise InvalidArgumentError(
                    f"vectors[{name!r}] has {matrix.shape[0]} rows for {count} ids")
        more.append((number, present, matrix))
    return vectors[first], more
