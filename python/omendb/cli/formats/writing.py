"""What every export writer shares: records in batches, and output files that appear whole or not at
all (written under a temporary name, renamed once complete)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

import omendb


def chunks(records: Sequence[omendb.Record], batch_size: int) -> Iterator[Sequence[omendb.Record]]:
    """``records`` in consecutive slices of ``batch_size``."""
    for start in range(0, len(records), batch_size):
        yield records[start : start + batch_size]


def vectors(records: Sequence[omendb.Record], dim: int) -> np.ndarray:
    """The records' vectors as one (len(records), dim) float32 array."""
    return np.stack([record.vector for record in records]) if records else np.empty((0, dim), np.float32)


@contextmanager
def replacing(*paths: Path) -> Iterator[list]:
    """Temporary paths beside ``paths`` (``<name>.partial``) to write to: renamed onto ``paths`` when
    the block succeeds, removed when it fails, so no half-written file is left at ``paths``."""
    temporary = [path.with_name(path.name + ".partial") for path in paths]
    try:
        yield temporary
    except BaseException:
        for path in temporary:
            path.unlink(missing_ok=True)
        raise
    for path, final in zip(temporary, paths):
        os.replace(path, final)
