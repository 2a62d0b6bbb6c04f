"""LanceDB: a table filled by add() in batches, then an HNSW index over full vectors
(HnswFlat with one partition, M and ef_construction as for every graph index)."""

from __future__ import annotations

from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import HnswFlat

from .base import Adapter, pad_ids

TABLE = "bench"
METRICS = {"l2": "l2", "cosine": "cosine"}


class Lance(Adapter):
    """One LanceDB table (id, bucket, vector) with an HNSW index."""

    def create(self, folder: Path, n: int) -> None:
        self.db = lancedb.connect(str(folder))
        self.table = None

    def prepare(self, lo: int, hi: int):
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(self.base[lo:hi].ravel()), self.dim)
        return pa.table({"id": pa.array(np.arange(lo, hi)), "bucket": pa.array(self.buckets[lo:hi]),
                         "vector": vectors})

    def insert(self, batch) -> None:
        if self.table is None:
            self.table = self.db.create_table(TABLE, data=batch)
        else:
            self.table.add(batch)

    def finish(self) -> None:
        config = HnswFlat(distance_type=METRICS[self.metric], num_partitions=1, m=self.m,
                          ef_construction=self.ef_construction)
        self.table.create_index("vector", config=config)

    def _query(self, query):
        return (self.table.search(query).distance_type(METRICS[self.metric]).ef(self.ef)
                .limit(self.k).select(["id"]))

    def search(self, query: np.ndarray):
        return self._query(query).to_arrow()

    def search_batch(self, queries: np.ndarray):
        self.batch_rows = len(queries)
        return self._query(list(queries)).to_arrow()

    def search_filtered(self, query: np.ndarray, below: int):
        return self._query(query).where(f"bucket < {below}", prefilter=True).to_arrow()

    def ids(self, result) -> list[int]:
        return result["id"].to_pylist()

    def batch_ids(self, result) -> np.ndarray:
        rows = [[] for _ in range(self.batch_rows)]
        for q, i in zip(result["query_index"].to_pylist(), result["id"].to_pylist()):
            rows[q].append(i)
        return pad_ids(rows, self.k)

    def describe(self) -> dict:
        stats = self.table.index_stats(self.table.list_indices()[0].name)
        return {"index_type": stats.index_type, "num_indexed_rows": stats.num_indexed_rows,
                "num_unindexed_rows": stats.num_unindexed_rows}

    def save(self) -> None:
        self.close()

    def open(self, folder: Path) -> None:
        self.db = lancedb.connect(str(folder))
        self.table = self.db.open_table(TABLE)

    def close(self) -> None:
        self.table = self.db = None


ADAPTER = Lance
