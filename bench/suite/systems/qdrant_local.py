"""qdrant-client in local mode (QdrantClient(path=...)): no server; the client stores points in
SQLite and searches them exactly in NumPy. The HNSW settings are passed but local mode ignores
them, so its recall is 1.0 at every ef."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qdrant_client import QdrantClient, models

from .base import Adapter, pad_ids

NAME = "bench"
DISTANCES = {"l2": models.Distance.EUCLID, "cosine": models.Distance.COSINE}


class Qdrant(Adapter):
    """One collection of a local-mode QdrantClient."""

    def create(self, folder: Path, n: int) -> None:
        self.client = QdrantClient(path=str(folder))
        self.client.create_collection(
            NAME, vectors_config=models.VectorParams(size=self.dim, distance=DISTANCES[self.metric]),
            hnsw_config=models.HnswConfigDiff(m=self.m, ef_construct=self.ef_construction))

    def prepare(self, lo: int, hi: int):
        return models.Batch(ids=list(range(lo, hi)), vectors=self.base[lo:hi].tolist(),
                            payloads=[{"bucket": int(b)} for b in self.buckets[lo:hi]])

    def insert(self, batch) -> None:
        self.client.upsert(NAME, points=batch)

    def _params(self):
        return models.SearchParams(hnsw_ef=self.ef)

    def search(self, query: np.ndarray):
        return self.client.query_points(NAME, query=query, limit=self.k, search_params=self._params())

    def search_batch(self, queries: np.ndarray):
        requests = [models.QueryRequest(query=q.tolist(), limit=self.k, params=self._params()) for q in queries]
        return self.client.query_batch_points(NAME, requests=requests)

    def search_filtered(self, query: np.ndarray, below: int):
        where = models.Filter(must=[models.FieldCondition(key="bucket", range=models.Range(lt=below))])
        return self.client.query_points(NAME, query=query, limit=self.k, search_params=self._params(),
                                        query_filter=where)

    def ids(self, result) -> list[int]:
        return [int(p.id) for p in result.points]

    def batch_ids(self, result) -> np.ndarray:
        return pad_ids([[int(p.id) for p in r.points] for r in result], self.k)

    def save(self) -> None:
        self.close()

    def open(self, folder: Path) -> None:
        self.client = QdrantClient(path=str(folder))

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
            self.client = None


ADAPTER = Qdrant
