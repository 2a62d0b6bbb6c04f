"""FAISS IndexHNSWSQ with 8-bit scalar codes (QT_8bit: a min and max per dimension, trained on the
base): the graph is built and searched on the codes, with no re-ranking by the floats."""

from __future__ import annotations

import faiss

from .faiss_index import Faiss


class FaissSQ8(Faiss):
    """faiss.IndexHNSWSQ(dim, QT_8bit, M); the timed build trains the quantizer on the base, then adds."""

    def _new(self, metric: int):
        """The empty index: HNSW over 8-bit codes."""
        return faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.m, metric)

    def insert(self, batch) -> None:
        """Trains the quantizer on the first batch (the whole base here), then adds it."""
        faiss.omp_set_num_threads(self.threads)
        vectors = self._unit(batch)
        if not self.index.is_trained:
            self.index.train(vectors)
        self.index.add(vectors)


ADAPTER = FaissSQ8
