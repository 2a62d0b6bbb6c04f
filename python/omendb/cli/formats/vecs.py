"""The ``.fvecs`` and ``.bvecs`` files of the ANN benchmarks (TEXMEX): per vector a little-endian
int32 dim, then dim float32 (fvecs) or dim uint8 (bvecs, read as float32)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

import omendb

from .arrays import ArrayReader, IdSource
from .batch import FileFormatError
from .writing import chunks, vectors

# Per format: the type of a vector's components.
COMPONENT = {"fvecs": np.dtype("<f4"), "bvecs": np.dtype("u1")}


def reader(path: Path, fmt: str, ids: IdSource) -> ArrayReader:
    """A reader of the .fvecs or .bvecs file at ``path``; FileFormatError when its size or a record's
    dim does not fit the dim of its first record."""
    component = COMPONENT[fmt]
    size = path.stat().st_size
    if size < 4:
        raise FileFormatError(f"{path} holds no rows")
    with open(path, "rb") as file:
        dim = int.from_bytes(file.read(4), "little", signed=True)
    if dim < 1:
        raise FileFormatError(f"{path}: the first record says dim {dim}; a .{fmt} record starts with its dim (>= 1)")
    width = 4 + dim * component.itemsize
    if size % width:
        raise FileFormatError(
            f"{path}: {size:,} bytes is not a whole number of {width}-byte records (dim {dim}, from the first record)"
        )
    records = np.memmap(path, dtype=np.uint8, mode="r", shape=(size // width, width))

    def read(start: int, stop: int) -> np.ndarray:
        block = np.array(records[start:stop])
        dims = block[:, :4].copy().view("<i4")[:, 0]
        if (dims != dim).any():
            bad = int(np.argmax(dims != dim))
            raise FileFormatError(f"{path} row {start + bad}: the record says dim {dims[bad]}, the first one {dim}")
        return np.ascontiguousarray(block[:, 4:]).view(component)

    return ArrayReader(path, records.shape[0], dim, read, ids)


def write(
    path: Path, fmt: str, records: Sequence[omendb.Record], dim: int, batch_size: int, advance: Callable[[int], None]
) -> None:
    """Write the records' vectors as .fvecs or .bvecs records, in their order; a .bvecs file takes
    only components that are integers 0..255 (FileFormatError otherwise)."""
    component = COMPONENT[fmt]
    with open(path, "wb") as out:
        start = 0
        for chunk in chunks(records, batch_size):
            values = _components(vectors(chunk, dim), component, start)
            rows = np.empty((len(chunk), 4 + dim * component.itemsize), np.uint8)
            rows[:, :4] = np.frombuffer(np.array(dim, "<i4").tobytes(), np.uint8)
            rows[:, 4:] = values.view(np.uint8)
            out.write(rows.tobytes())
            start += len(chunk)
            advance(len(chunk))


def _components(floats: np.ndarray, component: np.dtype, start: int) -> np.ndarray:
    """``floats`` as ``component`` values; FileFormatError when that would change a value."""
    with np.errstate(invalid="ignore"):
        converted = floats.astype(component)
    if not np.array_equal(converted, floats):
        row = start + int(np.argmax((converted != floats).any(axis=1)))
        raise FileFormatError(
            f"vector {row} (in id order) holds values other than the integers 0..255 that .bvecs holds; "
            "export to .fvecs, .npy, .parquet or .jsonl"
        )
    return converted
