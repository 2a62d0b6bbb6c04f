"""The earlier OmenDB engine from PyPI (import name omendb, a Rust library), run in its own
virtual environment. A persistent store is made by omendb.create(path, schema); its HNSW uses
M=16 and ef_construction=100: create() takes no graph settings and open() ignores them for a
store on disk (info() reports hnsw_ef_construction=100), so this system builds with 100, not 200.
set() keeps records in memory until flush(); the suite flushes once, after the last batch (in
finish(), so it counts in the insert+index time): inserts with the system's own durability, as for
every database here (flushing after every batch costs time that grows with the store)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import omendb

from .base import Adapter, pad_ids

METRICS = {"l2": "l2", "cosine": "cosine"}


class OmenDBPyPI(Adapter):
    """One store of the earlier engine, in a folder."""

    def create(self, folder: Path, n: int) -> None:
        self.db = omendb.create(str(folder / "db"), {"metric": METRICS[self.metric], "dense": {"dim": self.dim}})

    def prepare(self, lo: int, hi: int):
        return ([str(i) for i in range(lo, hi)], self.base[lo:hi],
                [{"bucket": int(b)} for b in self.buckets[lo:hi]])

    def insert(self, batch) -> None:
        ids, vectors, metadata = batch
        self.db.set(ids=ids, vectors=vectors, metadatas=metadata)

    def finish(self) -> None:
        self.db.flush()

    def search(self, query: np.ndarray):
        return self.db.search(query, k=self.k, ef=self.ef)

    def search_batch(self, queries: np.ndarray):
        return self.db.search_batch(queries, k=self.k, ef=self.ef)

    def search_filtered(self, query: np.ndarray, below: int):
        return self.db.search(query, k=self.k, ef=self.ef, filter={"bucket": {"$lt": below}})

    def ids(self, result) -> list[int]:
        return [int(hit["id"]) for hit in result]

    def batch_ids(self, result) -> np.ndarray:
        return pad_ids([[int(hit["id"]) for hit in hits] for hits in result], self.k)

    def save(self) -> None:
        self.close()

    def open(self, folder: Path) -> None:
        self.db = omendb.open(str(folder / "db"))

    def close(self) -> None:
        if getattr(self, "db", None) is not None:
            self.db.close()
            self.db = None

    def describe(self) -> dict:
        info = self.db.info()
        return {"hnsw_m": info["hnsw_m"], "hnsw_ef_construction": info["hnsw_ef_construction"]}


ADAPTER = OmenDBPyPI
