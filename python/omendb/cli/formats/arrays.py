"""Files that hold a matrix of vectors and nothing else (.npy, .fvecs, .bvecs), read through a memory
map so that memory stays bounded by one batch; ids come from row numbers or an ids file."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Union

import numpy as np

from .batch import Batch, FileFormatError, float32_rows
from .ids import IdLines, RowNumbers

IdSource = Union[RowNumbers, IdLines]


class ArrayReader:
    """The rows of a matrix on disk: ``read(start, stop)`` returns rows start..stop-1 as numbers."""

    def __init__(self, path: Path, rows: int, dim: int, read: Callable[[int, int], np.ndarray], ids: IdSource) -> None:
        if rows == 0:
            raise FileFormatError(f"{path} holds no rows")
        self.path, self.rows, self.dim = path, rows, dim
        self._read, self._ids = read, ids

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """The rows ``batch_size`` at a time, with their ids, checked and converted to float32."""
        bounds = [(start, min(start + batch_size, self.rows)) for start in range(0, self.rows, batch_size)]
        id_batches = self._ids.batches((stop - start for start, stop in bounds), self.rows)
        for start, stop in bounds:
            ids = next(id_batches)

            def locate(i: int, start: int = start) -> str:
                return f"{self.path} row {start + i}"

            yield Batch(ids, float32_rows(self._read(start, stop), locate), None, locate)
        next(id_batches, None)  # the id source checks that it holds no more ids than there are rows
