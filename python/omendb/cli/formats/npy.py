"""NumPy ``.npy`` files: a 2-D array of numbers (rows x dim), read and written through memory maps."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

import omendb

from .arrays import ArrayReader, IdSource
from .batch import FileFormatError
from .writing import chunks, vectors


def reader(path: Path, ids: IdSource) -> ArrayReader:
    """A reader of the .npy file at ``path``; FileFormatError when it is not a 2-D array of numbers."""
    try:
        array = np.lib.format.open_memmap(path, mode="r")
    except ValueError as error:
        raise FileFormatError(f"{path}: not a readable .npy file ({error})") from None
    if array.ndim != 2:
        raise FileFormatError(f"{path} holds an array of shape {array.shape}; import needs 2-D (rows, dim)")
    if array.dtype.kind not in "fiu":
        raise FileFormatError(f"{path} holds {array.dtype} values; import needs numbers")
    return ArrayReader(path, array.shape[0], array.shape[1], lambda start, stop: array[start:stop], ids)


def write(
    path: Path, records: Sequence[omendb.Record], dim: int, batch_size: int, advance: Callable[[int], None]
) -> None:
    """Write the records' vectors as one (len(records), dim) float32 array, in their order."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(records), dim))
    start = 0
    for chunk in chunks(records, batch_size):
        array[start : start + len(chunk)] = vectors(chunk, dim)
        start += len(chunk)
        advance(len(chunk))
    array.flush()
