"""Where a Parquet or JSONL file keeps a record's id, vector and metadata."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from .batch import FileFormatError


@dataclass(frozen=True)
class Columns:
    """The names of the id and vector columns (JSONL: fields), and which columns are metadata."""

    id: Optional[str] = "id"  # None: ids are row numbers (query files of `omendb search`)
    vector: str = "vector"
    metadata: Optional[tuple] = None  # None: every column but the id and vector ones

    def metadata_of(self, path: Path, names: Iterable[str]) -> list:
        """The metadata columns of a file whose columns are ``names``; FileFormatError when a column
        chosen with --metadata-columns is not one of them."""
        names = list(names)
        if self.metadata is None:
            return [name for name in names if name not in (self.id, self.vector)]
        missing = [name for name in self.metadata if name not in names]
        if missing:
            raise FileFormatError(f"{path} has no column {missing[0]!r} (columns: {', '.join(names)})")
        return list(self.metadata)

    def check_keys(self, keys: Iterable[str]) -> None:
        """FileFormatError when a metadata key is the name of the id or vector column, which an
        export could then not tell apart."""
        for key in keys:
            if key in (self.id, self.vector):
                raise FileFormatError(
                    f"metadata key {key!r} is also the name of the id or vector column; "
                    "pick other names with --id-column / --vector-column"
                )
