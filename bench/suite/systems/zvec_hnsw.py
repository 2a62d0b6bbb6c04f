"""zvec (Alibaba's embedded vector database) as an index library: one collection whose float32
vector field has an HNSW index over the floats (the subclasses: int8 codes, RaBitQ codes, with or
without re-ranking by the floats).

The build inserts the documents (zvec takes at most 1,024 per call), then optimize() builds the
graph on ``threads`` threads and the collection is reopened read-only, since a single query goes
through query_internal_ids, zvec's low-latency path for one dense query, which needs a read-only
collection; resolve_internal_ids turns its numbers into the document ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zvec

from .base import Adapter, pad_ids

METRICS = {"l2": zvec.MetricType.L2, "cosine": zvec.MetricType.COSINE}
FIELD = "v"
WRITE_BATCH = 1024  # zvec refuses more documents per insert call


class ZvecHnsw(Adapter):
    """A zvec collection in ``folder/collection``; document ids are the row numbers as strings."""

    quantize = zvec.QuantizeType.UNDEFINED
    refine = False

    def __init__(self, *args) -> None:
        """As Adapter; also zvec.init (once per process, which is one adapter here): queries on one
        thread, optimize() (the graph build) on ``threads``."""
        super().__init__(*args)
        zvec.init(query_threads=1, optimize_threads=self.threads)
        self.param = self.query_param(self.ef)

    def index_param(self):
        """The vector field's index."""
        return zvec.HnswIndexParam(metric_type=METRICS[self.metric], m=self.m, ef_construction=self.ef_construction,
                                   quantize_type=self.quantize)

    def query_param(self, ef: int):
        """The search settings at ``ef``."""
        return zvec.HnswQueryParam(ef=ef, is_using_refiner=self.refine)

    def create(self, folder: Path, n: int) -> None:
        """An empty collection with one FP32 vector field."""
        self.path = str(folder / "collection")
        field = zvec.VectorSchema(FIELD, zvec.DataType.VECTOR_FP32, dimension=self.dim, index_param=self.index_param())
        self.col = zvec.create_and_open(self.path, zvec.CollectionSchema(name="bench", vectors=[field]))

    def prepare(self, lo: int, hi: int):
        """zvec.Doc objects for rows lo..hi."""
        return [zvec.Doc(id=str(i), vectors={FIELD: self.base[i]}) for i in range(lo, hi)]

    def insert(self, batch) -> None:
        """insert() in calls of WRITE_BATCH documents; raises on a refused document."""
        for lo in range(0, len(batch), WRITE_BATCH):
            for status in self.col.insert(batch[lo:lo + WRITE_BATCH]):
                if not status.ok():
                    raise RuntimeError(f"zvec insert: {status.message()}")

    def finish(self) -> None:
        """Builds the index (optimize on ``threads`` threads) and reopens the collection read-only."""
        self.col.optimize(zvec.OptimizeOption(concurrency=self.threads))
        self.col.close()
        self.col = zvec.open(self.path, zvec.CollectionOption(read_only=True))

    def set_ef(self, ef: int) -> None:
        """Makes the query settings for ``ef``."""
        super().set_ef(ef)
        self.param = self.query_param(ef)

    def search(self, query: np.ndarray):
        """query_internal_ids, then the document ids of its numbers."""
        found = self.col.query_internal_ids(zvec.Query(FIELD, vector=query, param=self.param), topk=self.k)
        return self.col.resolve_internal_ids(found)

    def search_batch(self, queries: np.ndarray):
        """zvec has no batch search: one single query after another, on this thread."""
        return [self.search(q) for q in queries]

    def ids(self, result) -> list[int]:
        """The row numbers of the returned document ids (None marks a missing hit)."""
        return [int(key) for key in result if key is not None]

    def batch_ids(self, result) -> np.ndarray:
        """The rows of every query's result, padded with -1."""
        return pad_ids([self.ids(r) for r in result], self.k)

    def save(self) -> None:
        """close() (the collection was flushed and optimized by the build)."""
        self.col.close()
        self.col = None

    def open(self, folder: Path) -> None:
        """zvec.open read-only."""
        self.path = str(folder / "collection")
        self.col = zvec.open(self.path, zvec.CollectionOption(read_only=True))

    def close(self) -> None:
        """Closes the collection if it is open."""
        if getattr(self, "col", None) is not None:
            self.col.close()
            self.col = None


ADAPTER = ZvecHnsw
