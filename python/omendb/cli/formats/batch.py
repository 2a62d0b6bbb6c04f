"""A batch of rows read from a file, and the checks every reader applies to its rows, so that a bad
row is reported (file and row) before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Protocol, Sequence

import numpy as np

from ..errors import CliError

MAX_ID_BYTES = 1024  # the engine's limit on an id's UTF-8 length (Collection::kMaxIdBytes)

# The place of a batch's i-th row, for messages: "data.npy row 17", "data.jsonl line 18".
Locate = Callable[[int], str]


class FileFormatError(CliError):
    """A file that cannot be read as records; the message names the file and the row."""


@dataclass
class Batch:
    """Consecutive rows of a file: ids, float32 vectors and metadata (None when the file has none)."""

    ids: list
    vectors: np.ndarray  # (len(ids), dim) float32, C-contiguous, finite
    metadata: Optional[list]  # one dict per row, or None
    locate: Locate

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, keep: Sequence[int]) -> "Batch":
        """The rows at positions ``keep``, in that order."""
        metadata = None if self.metadata is None else [self.metadata[i] for i in keep]
        return Batch([self.ids[i] for i in keep], self.vectors[list(keep)], metadata, lambda i: self.locate(keep[i]))


class Reader(Protocol):
    """A file of records as import reads it: row count, dimension, rows in batches."""

    path: Path
    rows: int
    dim: int

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """The file's rows, ``batch_size`` at a time (the last batch may be shorter)."""


def check_ids(ids: Sequence[str], locate: Locate) -> None:
    """Refuse the ids add() would refuse: not a str, empty, holding NUL, invalid Unicode, too long."""
    for i, id_ in enumerate(ids):
        problem = _id_problem(id_)
        if problem is not None:
            raise FileFormatError(f"{locate(i)}: {problem}")


def _id_problem(id_: object) -> Optional[str]:
    if not isinstance(id_, str):
        return f"id must be a str, got {type(id_).__name__}"
    if not id_:
        return "empty id"
    if "\0" in id_:
        return f"id {id_!r} holds a NUL character"
    try:
        length = len(id_.encode("utf-8"))
    except UnicodeEncodeError:
        return f"id {id_!r} is not valid Unicode"
    if length > MAX_ID_BYTES:
        return f"id is {length:,} UTF-8 bytes long; the limit is {MAX_ID_BYTES:,}"
    return None


def float32_rows(values: np.ndarray, locate: Locate) -> np.ndarray:
    """``values`` (a 2-D array of numbers) as C-contiguous float32; FileFormatError naming the first
    row that holds NaN, an infinity or a value beyond float32's range."""
    if values.dtype.kind not in "fiu":
        raise FileFormatError(f"{locate(0)}: vectors must hold numbers, got {values.dtype}")
    with np.errstate(over="ignore"):
        rows = np.ascontiguousarray(values, dtype=np.float32)
    finite = np.isfinite(rows)
    if not finite.all():
        row = int(np.argmin(finite.all(axis=1)))
        raise FileFormatError(f"{locate(row)}: vector holds NaN, an infinity or a value beyond float32's range")
    return rows
