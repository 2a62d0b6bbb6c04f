"""OmenDB: an embedded vector database. ``db = omendb.open(":memory:")`` to start."""

from ._api import Collection, Database, open  # noqa: A004
from ._hybrid import RRF, TextField, Weighted
from ._sparse import SparseField
from ._vector_fields import VectorField
from .client import connect
from ._core import Hit, Record, simd_isa
from ._errors import (
    ClosedError,
    CorruptionError,
    DimensionError,
    DuplicateIdError,
    Error,
    FilterError,
    InvalidArgumentError,
    LockedError,
    NotFoundError,
    NotSupportedError,
    ReadOnlyError,
    StorageError,
)

__version__ = "0.1.0"

__all__ = [
    "open",
    "connect",
    "Database",
    "Collection",
    "SparseField",
    "VectorField",
    "TextField",
    "RRF",
    "Weighted",
    "Hit",
    "Record",
    "simd_isa",
    "Error",
    "InvalidArgumentError",
    "DimensionError",
    "DuplicateIdError",
    "NotFoundError",
    "ClosedError",
    "NotSupportedError",
    "StorageError",
    "CorruptionError",
    "LockedError",
    "ReadOnlyError",
    "FilterError",
]
