"""hnswlib: Index(space, dim) with M, ef_construction and random_seed=0."""

from __future__ import annotations

from pathlib import Path

import hnswlib
import numpy as np

from .base import Adapter

SPACES = {"l2": "l2", "cosine": "cosine"}


class Hnswlib(Adapter):
    """hnswlib.Index; ids are the row numbers."""

    def create(self, folder: Path, n: int) -> None:
        self.path = folder / "index.bin"
        self.index = hnswlib.Index(space=SPACES[self.metric], dim=self.dim)
        self.index.init_index(max_elements=n, M=self.m, ef_construction=self.ef_construction, random_seed=0)
        self.index.set_num_threads(self.threads)

    def prepare(self, lo: int, hi: int):
        return self.base[lo:hi], np.arange(lo, hi)

    def insert(self, batch) -> None:
        vectors, ids = batch
        self.index.set_num_threads(self.threads)
        self.index.add_items(vectors, ids)

    def set_ef(self, ef: int) -> None:
        super().set_ef(ef)
        self.index.set_ef(ef)

    def search(self, query: np.ndarray):
        return self.index.knn_query(query, k=self.k, num_threads=1)[0]

    def search_batch(self, queries: np.ndarray):
        return self.index.knn_query(queries, k=self.k, num_threads=self.threads)[0]

    def ids(self, result) -> list[int]:
        return [int(i) for i in result[0]]

    def batch_ids(self, result) -> np.ndarray:
        return result.astype(np.int64)

    def save(self) -> None:
        self.index.save_index(str(self.path))

    def open(self, folder: Path) -> None:
        self.index = hnswlib.Index(space=SPACES[self.metric], dim=self.dim)
        self.index.load_index(str(folder / "index.bin"))

    def close(self) -> None:
        self.index = None


ADAPTER = Hnswlib
