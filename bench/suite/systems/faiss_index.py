"""FAISS IndexHNSWFlat. Cosine is inner product on L2-normalised vectors (normalising is timed)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from .base import Adapter


class Faiss(Adapter):
    """faiss.IndexHNSWFlat; FAISS numbers rows in insertion order, which are the row ids."""

    def _unit(self, vectors: np.ndarray) -> np.ndarray:
        """Rows as a float32 C-contiguous 2-d array: the input itself for L2, a normalised copy for
        cosine (what a FAISS user does for cosine)."""
        if self.metric != "cosine":
            return np.ascontiguousarray(vectors.reshape(-1, self.dim))
        vectors = np.array(vectors, dtype=np.float32, order="C", copy=True, ndmin=2)
        faiss.normalize_L2(vectors)
        return vectors

    def _new(self, metric: int):
        """The empty index: HNSW over the floats."""
        return faiss.IndexHNSWFlat(self.dim, self.m, metric)

    def create(self, folder: Path, n: int) -> None:
        self.path = folder / "index.faiss"
        self.index = self._new(faiss.METRIC_INNER_PRODUCT if self.metric == "cosine" else faiss.METRIC_L2)
        self.index.hnsw.efConstruction = self.ef_construction

    def prepare(self, lo: int, hi: int):
        return self.base[lo:hi]

    def insert(self, batch) -> None:
        faiss.omp_set_num_threads(self.threads)
        self.index.add(self._unit(batch))

    def set_ef(self, ef: int) -> None:
        super().set_ef(ef)
        self.index.hnsw.efSearch = ef

    def search(self, query: np.ndarray):
        faiss.omp_set_num_threads(1)
        return self.index.search(self._unit(query), self.k)[1]

    def search_batch(self, queries: np.ndarray):
        faiss.omp_set_num_threads(self.threads)
        return self.index.search(self._unit(queries), self.k)[1]

    def ids(self, result) -> list[int]:
        return [int(i) for i in result[0]]

    def batch_ids(self, result) -> np.ndarray:
        return result.astype(np.int64)

    def save(self) -> None:
        faiss.write_index(self.index, str(self.path))

    def open(self, folder: Path) -> None:
        self.index = faiss.read_index(str(folder / "index.faiss"))

    def close(self) -> None:
        self.index = None


ADAPTER = Faiss
