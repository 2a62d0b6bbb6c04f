"""VSAG (Ant Group) HGraph through pyvsag, over float32 vectors (vsag_sq8.py: 8-bit codes re-ranked
with the floats).

HGraph's max_degree is the bottom layer's degree and the upper layers get half of it, so
max_degree = 2M matches HNSW's M (2M links on layer 0, M above). pyvsag takes the whole base in one
build() call (on build_thread_count threads) and searches one query per knn_search() call.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyvsag

from .base import Adapter

METRICS = {"l2": "l2", "cosine": "cosine"}


class VsagHGraph(Adapter):
    """pyvsag.Index("hgraph", parameters); ids are the row numbers."""

    codes = {"base_quantization_type": "fp32"}

    def _parameters(self) -> str:
        """The index parameters as pyvsag takes them (JSON)."""
        return json.dumps({"dtype": "float32", "metric_type": METRICS[self.metric], "dim": self.dim,
                           "index_param": {"max_degree": 2 * self.m, "ef_construction": self.ef_construction,
                                           "build_thread_count": self.threads, **self.codes}})

    def create(self, folder: Path, n: int) -> None:
        """An empty HGraph index."""
        self.path = folder / "index.vsag"
        self.index = pyvsag.Index("hgraph", self._parameters())
        self.set_ef(self.ef)

    def prepare(self, lo: int, hi: int):
        """Rows lo..hi and their ids (int64)."""
        return self.base[lo:hi], np.arange(lo, hi, dtype=np.int64)

    def insert(self, batch) -> None:
        """build(): HGraph builds once, from all vectors (a second call is refused)."""
        vectors, ids = batch
        self.index.build(vectors=vectors, ids=ids, num_elements=len(ids), dim=self.dim)

    def set_ef(self, ef: int) -> None:
        """The search parameters for ``ef`` (ef_search)."""
        super().set_ef(ef)
        self.search_parameters = json.dumps({"hgraph": {"ef_search": ef}})

    def search(self, query: np.ndarray):
        """knn_search on the calling thread; (ids, distances)."""
        return self.index.knn_search(vector=query, k=self.k, parameters=self.search_parameters)

    def search_batch(self, queries: np.ndarray):
        """pyvsag has no batch search: one knn_search call after another, on this thread."""
        return [self.search(q) for q in queries]

    def ids(self, result) -> list[int]:
        """The ids of one result."""
        return [int(i) for i in result[0]]

    def batch_ids(self, result) -> np.ndarray:
        """The ids of every query's result."""
        return np.array([r[0] for r in result], dtype=np.int64)

    def save(self) -> None:
        """save(file)."""
        self.index.save(str(self.path))

    def open(self, folder: Path) -> None:
        """load(file) into an index made with the same parameters."""
        self.index = pyvsag.Index("hgraph", self._parameters())
        self.index.load(str(folder / "index.vsag"))
        self.set_ef(self.ef)

    def close(self) -> None:
        """Drops the index."""
        self.index = None


ADAPTER = VsagHGraph
