"""Which shard holds a record, and the checks a batch passes before any shard sees it.

Placement: shard = the first 8 bytes of BLAKE2b(id as UTF-8), little-endian, modulo the shard
count. A function of the id alone, the same in every process, Python version and machine (unlike
Python's hash()), so get/upsert/delete of an id always reach the shard that holds it.

A batch is written to each shard atomically, but the shards of one batch are written
independently. So that an invalid batch changes nothing anywhere, the client checks everything
the engine checks first (_api's conversions, then check_batch below), and add() asks every
shard whether an id exists before writing to any.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Optional

import numpy as np

from .._errors import DuplicateIdError, InvalidArgumentError

MAX_ID_BYTES = 1024  # Collection::kMaxIdBytes


def shard_of(record_id: str, shards: int) -> int:
    """The shard of ``record_id`` among ``shards``."""
    digest = hashlib.blake2b(record_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % shards


def split(ids: list, shards: int) -> dict:
    """{shard: positions in ``ids``} for the shards that get any."""
    parts: dict = {}
    for position, record_id in enumerate(ids):
        parts.setdefault(shard_of(record_id, shards), []).append(position)
    return parts


def check_batch(ids: list, metadata: Optional[list]) -> None:
    """The engine's checks of ids and metadata (vectors are checked by _api's conversion and the
    finite check here), so that no shard refuses its part of a batch another shard took.
    Raises InvalidArgumentError or DuplicateIdError naming the entry."""
    seen = set()
    for i, record_id in enumerate(ids):
        if not isinstance(record_id, str):
            raise InvalidArgumentError(f"ids[{i}] must be a str, got {type(record_id).__name__}")
        try:
            size = len(record_id.encode("utf-8"))
        except UnicodeEncodeError:
            raise InvalidArgumentError(f"ids[{i}] is not valid Unicode (it holds a lone surrogate)") from None
        if size == 0:
            raise InvalidArgumentError(f"ids[{i}] is empty")
        if "\0" in record_id:
            raise InvalidArgumentError(f"ids[{i}] contains a NUL character")
        if size > MAX_ID_BYTES:
            raise InvalidArgumentError(f"ids[{i}] is {size} bytes long; the limit is {MAX_ID_BYTES}")
        if record_id in seen:
            raise DuplicateIdError(f"id {record_id!r} appears twice in the batch")
        seen.add(record_id)
    for i, fields in enumerate(metadata or []):
        _check_metadata(fields, f"metadata[{i}]")


def check_finite(matrix: np.ndarray, what: str) -> None:
    """InvalidArgumentError naming the first NaN or infinite value."""
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise InvalidArgumentError(f"{what} row {row} has a non-finite value ({matrix[row, column]}) at index {column}")


def _check_metadata(fields: Any, where: str) -> None:
    if not isinstance(fields, dict):
        raise InvalidArgumentError(f"{where} must be a dict or None, got {type(fields).__name__}")
    for key, value in fields.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(f"{where}: metadata keys must be non-empty strings")
        _check_value(value, f"{where}[{key!r}]")


def _check_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str):
            _check_unicode(value, where)
        return
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise InvalidArgumentError(f"{where} is an int outside the signed 64-bit range")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(f"{where} must be finite, got {value}")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise InvalidArgumentError(
                    f"{where}[{i}] must be a str (lists may hold only strings), got {type(item).__name__}"
                )
            _check_unicode(item, f"{where}[{i}]")
        return
    raise InvalidArgumentError(
        f"{where} has unsupported type {type(value).__name__}; expected None, bool, int, float, str or a list of str"
    )


def _check_unicode(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(f"{where} is not valid Unicode (it holds a lone surrogate)") from None
