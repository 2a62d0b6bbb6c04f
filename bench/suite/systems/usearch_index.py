"""USearch: Index(ndim, metric, dtype="f32", connectivity=M, expansion_add=ef_construction) (the i8
variant: usearch_i8.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from usearch.index import Index

from .base import Adapter

METRICS = {"l2": "l2sq", "cosine": "cos"}


class USearch(Adapter):
    """usearch.index.Index with float32 storage; keys are the row numbers."""

    dtype = "f32"

    def _new(self) -> Index:
        """An empty index with this adapter's settings and storage type."""
        return Index(ndim=self.dim, metric=METRICS[self.metric], dtype=self.dtype, connectivity=self.m,
                     expansion_add=self.ef_construction)

    def create(self, folder: Path, n: int) -> None:
        self.path = folder / "index.usearch"
        self.index = self._new()

    def prepare(self, lo: int, hi: int):
        return np.arange(lo, hi, dtype=np.uint64), self.base[lo:hi]

    def insert(self, batch) -> None:
        keys, vectors = batch
        self.index.add(keys, vectors, threads=self.threads)

    def set_ef(self, ef: int) -> None:
        super().set_ef(ef)
        self.index.expansion_search = ef

    def search(self, query: np.ndarray):
        return self.index.search(query, self.k, threads=1)

    def search_batch(self, queries: np.ndarray):
        return self.index.search(queries, self.k, threads=self.threads)

    def ids(self, result) -> list[int]:
        return [int(i) for i in result.keys]

    def batch_ids(self, result) -> np.ndarray:
        keys = result.keys.astype(np.int64)
        counts = np.asarray(result.counts)
        keys[np.arange(self.k)[None, :] >= counts[:, None]] = -1
        return keys

    def save(self) -> None:
        self.index.save(str(self.path))

    def open(self, folder: Path) -> None:
        self.index = self._new()
        self.index.load(str(folder / "index.usearch"))

    def close(self) -> None:
        self.index = None


ADAPTER = USearch
