"""The wire formats of the OmenDB server, shared by server and client: JSON bodies, and the binary
frame that carries vectors without JSON.

A frame (content type ``application/x-omendb-frame``) is, all integers unsigned 32-bit little-endian:

    b"OMF1" | json_length | json_length bytes of UTF-8 JSON (an object) | rows | cols | rows*cols float32 (LE)

The JSON object holds the call's other arguments (ids, metadata, k, ...); the matrix is the vectors
(add, upsert, search_batch, get's answer), the query (search: one row) or the distances
(search_batch's answer). Decoding checks every length against the bytes present before reading,
so a malformed frame raises InvalidArgumentError and never over-reads or over-allocates.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from .._errors import InvalidArgumentError

FRAME_TYPE = "application/x-omendb-frame"
JSON_TYPE = "application/json"
MAGIC = b"OMF1"
_U32 = struct.Struct("<I")
_SHAPE = struct.Struct("<II")
_FLOAT32_LE = np.dtype("<f4")


def encode_json(value: Any) -> bytes:
    """``value`` as compact ASCII JSON. Lone surrogates are escaped (so the receiver sees them and
    refuses them with the engine's message), NaN and infinities are written as Python's json does.
    Cost: one pass over the value. Raises TypeError for values JSON cannot hold."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def decode_json(body: bytes, what: str = "request body") -> dict:
    """The JSON object in ``body``. Raises InvalidArgumentError naming what is wrong (not UTF-8,
    not JSON, nested too deeply, an integer of more than 4,300 digits, not an object); never
    anything else. Cost: one pass over the bytes."""
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidArgumentError(f"{what} is not valid UTF-8: {error.reason} at byte {error.start}") from None
    except RecursionError:
        raise InvalidArgumentError(f"{what} is nested too deeply") from None
    except ValueError as error:  # json.JSONDecodeError, or an int beyond the digit limit
        raise InvalidArgumentError(f"{what} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def encode_frame(header: dict, matrix: np.ndarray) -> bytes:
    """A frame of the JSON object ``header`` and the 2-D ``matrix`` (converted to float32 LE).
    Cost: one copy of the matrix (none of the conversion when it is float32 LE C-contiguous)."""
    head = encode_json(header)
    matrix = np.ascontiguousarray(matrix, dtype=_FLOAT32_LE)
    if matrix.ndim != 2:
        raise ValueError(f"a frame holds a 2-D matrix, got shape {matrix.shape}")
    rows, cols = matrix.shape
    return b"".join((MAGIC, _U32.pack(len(head)), head, _SHAPE.pack(rows, cols), matrix.tobytes()))


def decode_frame(body: bytes, max_rows: int, max_cols: int) -> tuple[dict, np.ndarray]:
    """(header object, float32 matrix of shape (rows, cols)) from a frame. The matrix is a
    read-only view of ``body`` (no copy). Raises InvalidArgumentError for a bad magic, a length
    that does not match the bytes present, more than ``max_rows`` rows or ``max_cols`` columns,
    or a header that is not a JSON object. Cost: parsing the header; the matrix is not touched."""
    view = memoryview(body)
    if len(view) < 8 or bytes(view[:4]) != MAGIC:
        raise InvalidArgumentError(f"frame must start with {MAGIC!r} and a header length")
    (head_length,) = _U32.unpack_from(view, 4)
    shape_at = 8 + head_length
    if shape_at + _SHAPE.size > len(view):
        raise InvalidArgumentError(
            f"frame header length {head_length} leaves no room for the matrix shape in {len(view)} bytes"
        )
    header = decode_json(bytes(view[8:shape_at]), "frame header")
    rows, cols = _SHAPE.unpack_from(view, shape_at)
    if rows > max_rows:
        raise InvalidArgumentError(f"frame holds {rows} rows; the limit is {max_rows}")
    if cols > max_cols:
        raise InvalidArgumentError(f"frame rows have {cols} columns; the limit is {max_cols}")
    data_at = shape_at + _SHAPE.size
    expected = rows * cols * 4
    if len(view) - data_at != expected:
        raise InvalidArgumentError(
            f"frame of {rows} x {cols} float32 needs {expected} bytes of data, got {len(view) - data_at}"
        )
    if expected == 0:
        return header, np.empty((rows, cols), dtype=np.float32)
    matrix = np.frombuffer(view, dtype=_FLOAT32_LE, count=rows * cols, offset=data_at).reshape(rows, cols)
    return header, matrix
