"""Chroma's PersistentClient (in-process, telemetry off), HNSW configured through the collection's
configuration. A new ef_search set with modify() is used only once the index is loaded again
(checked: recall stays the same until then), so set_ef also reloads the client (untimed)."""

from __future__ import annotations

from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings

from .base import Adapter, pad_ids

NAME = "bench"


class Chroma(Adapter):
    """One Chroma collection in a PersistentClient folder."""

    def _client(self, folder: Path):
        return chromadb.PersistentClient(path=str(folder), settings=Settings(anonymized_telemetry=False))

    def create(self, folder: Path, n: int) -> None:
        self.folder = folder
        self.client = self._client(folder)
        hnsw = {"space": self.metric, "max_neighbors": self.m, "ef_construction": self.ef_construction,
                "ef_search": self.ef, "num_threads": self.threads}
        self.col = self.client.create_collection(NAME, configuration={"hnsw": hnsw}, embedding_function=None)

    def prepare(self, lo: int, hi: int):
        return ([str(i) for i in range(lo, hi)], self.base[lo:hi],
                [{"bucket": int(b)} for b in self.buckets[lo:hi]])

    def insert(self, batch) -> None:
        ids, vectors, metadata = batch
        self.col.add(ids=ids, embeddings=vectors, metadatas=metadata)

    def set_ef(self, ef: int) -> None:
        if ef == self.ef:
            return
        self.col.modify(configuration={"hnsw": {"ef_search": ef}})
        self.client.clear_system_cache()
        self.open(self.folder)
        super().set_ef(ef)

    def search(self, query: np.ndarray):
        return self.col.query(query_embeddings=query[None, :], n_results=self.k, include=["distances"])

    def search_batch(self, queries: np.ndarray):
        return self.col.query(query_embeddings=queries, n_results=self.k, include=["distances"])

    def search_filtered(self, query: np.ndarray, below: int):
        return self.col.query(query_embeddings=query[None, :], n_results=self.k, include=["distances"],
                              where={"bucket": {"$lt": below}})

    def ids(self, result) -> list[int]:
        return [int(i) for i in result["ids"][0]]

    def batch_ids(self, result) -> np.ndarray:
        return pad_ids([[int(i) for i in row] for row in result["ids"]], self.k)

    def describe(self) -> dict:
        return {"hnsw": dict(self.col.configuration_json.get("hnsw") or {})}

    def save(self) -> None:
        self.close()

    def open(self, folder: Path) -> None:
        self.folder = folder
        self.client = self._client(folder)
        self.col = self.client.get_collection(NAME)

    def close(self) -> None:
        self.col = self.client = None


ADAPTER = Chroma
