"""Argument checks and conversions shared by the public API (omendb._api), its HTTP client and the
distributed collections: each raises the omendb error that names the argument and what was
expected, and turns array-likes into float32 C-contiguous NumPy arrays (no copy when they already
are)."""

from __future__ import annotations

import numbers
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from ._errors import DimensionError, InvalidArgumentError
from ._hybrid import TextField


def _id_list(ids: Any) -> Sequence[str]:
    """``ids`` as a sequence (a lone str or a non-sequence is rejected with InvalidArgumentError)."""
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
        ids = _as_list(ids, "ids")
    return ids


def _batch_arguments(ids: Any, vectors: Any, metadata: Any, dim: int, name: str) -> tuple:
    """Checks and converts the arguments of add/upsert for a collection of dimension ``dim``:
    (ids, float32 matrix, metadata list or None). Raises before anything is written."""
    ids = _id_list(ids)
    if len(ids) == 0:
        raise InvalidArgumentError("add() needs at least one record, got an empty batch")
    matrix = _matrix(vectors, "vectors", dim, name)
    if len(ids) != matrix.shape[0]:
        raise InvalidArgumentError(f"ids and vectors differ in length: {len(ids)} ids, {matrix.shape[0]} vectors")
    if metadata is not None:
        if isinstance(metadata, (str, bytes, dict)) or not isinstance(metadata, Sequence):
            metadata = _as_list(metadata, "metadata")
        if len(metadata) != len(ids):
            raise InvalidArgumentError(
                f"metadata must be omitted or hold one entry per id: {len(ids)} ids, "
                f"{len(metadata)} metadata entries"
            )
        metadata = [{} if entry is None else entry for entry in metadata]
    return ids, matrix, metadata


def _owner(name: str, field: Optional[str]) -> str:
    """What has the dimension, for messages: collection ``name`` or its vector field ``field``."""
    return f"collection {name!r}" if field is None else f"vector field {field!r} of collection {name!r}"


def _query_vector(vector: Any, dim: int, name: str, field: Optional[str] = None) -> np.ndarray:
    """``vector`` as a float32 vector of length ``dim``, or DimensionError naming collection ``name``
    (and ``field``, the vector field searched)."""
    query = _as_float32(vector, "vector")
    if query.ndim != 1:
        raise DimensionError(f"vector must be 1-D of length {dim}, got shape {query.shape}")
    if query.shape[0] != dim:
        raise DimensionError(f"vector has dimension {query.shape[0]}; {_owner(name, field)} has dim={dim}")
    return query


def _matrix(values: Any, what: str, dim: int, name: str, field: Optional[str] = None) -> np.ndarray:
    """``values`` as a float32 (n, dim) matrix, or DimensionError naming collection ``name`` (and
    ``field``, the vector field they belong to)."""
    matrix = _as_float32(values, what)
    if matrix.ndim != 2:
        raise DimensionError(f"{what} must be 2-D (n, {dim}), got shape {matrix.shape}")
    if matrix.shape[1] != dim:
        raise DimensionError(f"{what} have dimension {matrix.shape[1]}; {_owner(name, field)} has dim={dim}")
    return matrix


def _as_float32(values: Any, what: str) -> np.ndarray:
    """A float32 C-contiguous view of ``values``: no copy when it already is one."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # ragged nested lists, ...
        raise InvalidArgumentError(f"{what} must be a numeric array: {error}") from None
    if array.dtype.kind not in "fiu":
        raise InvalidArgumentError(f"{what} must hold numbers, got dtype {array.dtype}")
    if array.dtype == np.float32:
        return np.ascontiguousarray(array)
    with np.errstate(over="ignore"):
        converted = np.ascontiguousarray(array, dtype=np.float32)
    if array.dtype.kind == "f":
        overflowed = np.isfinite(array) & ~np.isfinite(converted)
        if overflowed.any():
            position = np.argwhere(overflowed)[0]
            where = f"row {position[0]} " if array.ndim == 2 else ""
            raise InvalidArgumentError(
                f"{what} {where}has a value outside the float32 range (magnitude above 3.4e38) "
                f"at index {position[-1]}"
            )
    return converted


def _check_name(name: Any) -> None:
    if not isinstance(name, str):
        raise InvalidArgumentError(f"collection name must be a str, got {type(name).__name__}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(f"collection name {name!r} is not valid Unicode") from None


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{what} must be an int, got {type(value).__name__}")
    if value < 1:
        raise InvalidArgumentError(f"{what} must be at least 1, got {value}")
    return int(value)


def _ef(ef: Optional[int]) -> int:
    return 0 if ef is None else _positive_int(ef, "ef")


def _as_list(values: Iterable, what: str) -> list:
    if isinstance(values, (str, bytes, dict)):
        raise InvalidArgumentError(f"{what} must be a list, got {type(values).__name__}")
    try:
        return list(values)
    except TypeError:
        raise InvalidArgumentError(f"{what} must be a list, got {type(values).__name__}") from None


def _text_settings(text: Any) -> Optional[tuple]:
    """The engine's form of Database.collection's ``text=`` argument, or None for no text."""
    if text is None or text is False:
        return None
    if text is True:
        text = TextField()
    if not isinstance(text, TextField):
        raise InvalidArgumentError(f"text must be True or an omendb.TextField, got {type(text).__name__}")
    return text.settings()


def _check_text_of(existing: Any, text_settings: Optional[tuple]) -> Any:
    """``existing`` (an omendb.Collection), unless text settings were asked for and it has no
    text."""
    if text_settings is not None and existing.text is None:
        raise InvalidArgumentError(f"collection {existing.name!r} exists without text")
    return existing


def _text_query(text: Any) -> str:
    if not isinstance(text, str):
        raise InvalidArgumentError(f"text must be a str, got {type(text).__name__}")
    return text


def _document_list(documents: Any, count: int) -> list:
    """add/upsert's ``documents`` as a list of one str or None per id."""
    documents = _as_list(documents, "documents")
    if len(documents) != count:
        raise InvalidArgumentError(
            f"documents must be omitted or hold one entry per id: {count} ids, {len(documents)} documents")
    for i, document in enumerate(documents):
        if document is not None and not isinstance(document, str):
            raise InvalidArgumentError(f"documents[{i}] must be a str or None, got {type(document).__name__}")
    return documents
