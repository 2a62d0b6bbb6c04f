"""OmenDB as an index library: one collection built by a single add() call.

The collection lives in a folder opened with sync="off" and a checkpoint threshold larger than any
data set here, so the build is the add() call alone (it also appends the batch to the log in the
OS cache, a cost the other libraries do not pay) and ``save`` is close(), which writes the snapshot
files that a later open() maps without rebuilding the graph.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import omendb

from .base import Adapter

NO_AUTO_CHECKPOINT = 1 << 40  # bytes of log before a checkpoint runs by itself


class OmenDB(Adapter):
    """omendb.open(folder, sync="off", threads=T); collection("bench", dim, metric, m, ef_construction,
    quantization), the quantization always given, so a change of the default cannot change the result."""

    sync = "off"
    quantization = "none"

    def create(self, folder: Path, n: int) -> None:
        self.db = omendb.open(str(folder), sync=self.sync, threads=self.threads,
                              checkpoint_log_bytes=NO_AUTO_CHECKPOINT)
        self.col = self.db.collection("bench", dim=self.dim, metric=self.metric, m=self.m,
                                      ef_construction=self.ef_construction, quantization=self.quantization)

    def prepare(self, lo: int, hi: int):
        return [str(i) for i in range(lo, hi)], self.base[lo:hi]

    def insert(self, batch) -> None:
        ids, vectors = batch
        self.col.add(ids=ids, vectors=vectors)

    def search(self, query: np.ndarray):
        return self.col.search(query, k=self.k, ef=self.ef)

    def search_batch(self, queries: np.ndarray):
        return self.col.search_batch(queries, k=self.k, ef=self.ef)

    def ids(self, result) -> list[int]:
        return [int(hit.id) for hit in result]

    def batch_ids(self, result) -> np.ndarray:
        ids, _ = result
        return np.array([[int(i) if i else -1 for i in row] for row in ids], dtype=np.int64)

    def save(self) -> None:
        self.db.close()
        self.db = self.col = None

    def open(self, folder: Path) -> None:
        self.db = omendb.open(str(folder), threads=self.threads)
        self.col = self.db.collection("bench")

    def close(self) -> None:
        if getattr(self, "db", None) is not None:
            self.db.close()
            self.db = self.col = None


ADAPTER = OmenDB
