"""OmenDB as a database: a folder opened with sync="full", records added in batches with metadata,
filtered search by a metadata range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import omendb

from .omendb_memory import OmenDB


class OmenDBDisk(OmenDB):
    """As the library adapter, but every add() is durable (sync="full") and carries metadata, and
    the collection takes the product's default quantization, sq8 (given explicitly, as every
    adapter gives it): a database user who names none gets it."""

    sync = "full"
    quantization = "sq8"

    def create(self, folder: Path, n: int) -> None:
        self.db = omendb.open(str(folder), sync=self.sync, threads=self.threads)
        self.col = self.db.collection("bench", dim=self.dim, metric=self.metric, m=self.m,
                                      ef_construction=self.ef_construction, quantization=self.quantization)

    def prepare(self, lo: int, hi: int):
        ids, vectors = super().prepare(lo, hi)
        return ids, vectors, [{"bucket": int(b)} for b in self.buckets[lo:hi]]

    def insert(self, batch) -> None:
        ids, vectors, metadata = batch
        self.col.add(ids=ids, vectors=vectors, metadata=metadata)

    def search_filtered(self, query: np.ndarray, below: int):
        return self.col.search(query, k=self.k, ef=self.ef, where={"bucket": {"$lt": below}})


ADAPTER = OmenDBDisk
