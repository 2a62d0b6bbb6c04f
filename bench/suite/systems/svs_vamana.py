"""Intel SVS (Scalable Vector Search, PyPI scalable-vs): a Vamana graph over float32 vectors
(svs_lvq.py: over LVQ codes). graph_max_degree = 2M (the degree of HNSW's layer 0), build window
= ef_construction, search window = ef; alpha is SVS's default (1.2 for L2, 0.95 for cosine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import svs

from .base import Adapter

DISTANCES = {"l2": svs.DistanceType.L2, "cosine": svs.DistanceType.Cosine}


class SvsVamana(Adapter):
    """svs.Vamana; SVS numbers rows in order, which are the row ids."""

    def _build_parameters(self):
        """Graph degree and build window."""
        return svs.VamanaBuildParameters(graph_max_degree=2 * self.m, window_size=self.ef_construction)

    def _ready(self, index) -> None:
        """Keeps ``index`` with the current search window."""
        self.index = index
        self.set_ef(self.ef)

    def _threads(self, count: int) -> None:
        """Sets the threads of the following searches when they change (it is not free)."""
        if self.index.num_threads != count:
            self.index.num_threads = count

    def create(self, folder: Path, n: int) -> None:
        """Nothing to make before the data: Vamana.build takes all vectors at once."""
        self.folder = folder

    def prepare(self, lo: int, hi: int):
        """Rows lo..hi."""
        return self.base[lo:hi]

    def insert(self, batch) -> None:
        """Vamana.build from the array, on ``threads`` threads."""
        self._ready(svs.Vamana.build(self._build_parameters(), batch, DISTANCES[self.metric],
                                     num_threads=self.threads))

    def set_ef(self, ef: int) -> None:
        """search_window_size = max(ef, k)."""
        super().set_ef(ef)
        self.index.search_window_size = max(ef, self.k)

    def search(self, query: np.ndarray):
        """search() on one thread; the (1, k) ids."""
        self._threads(1)
        return self.index.search(query, self.k)[0]

    def search_batch(self, queries: np.ndarray):
        """search() of all queries on ``threads`` threads; the ids."""
        self._threads(self.threads)
        return self.index.search(queries, self.k)[0]

    def ids(self, result) -> list[int]:
        """The ids of one result."""
        return [int(i) for i in result[0]]

    def batch_ids(self, result) -> np.ndarray:
        """The ids of every query's result."""
        return result.astype(np.int64)

    def save(self) -> None:
        """save() into folder/config, folder/graph and folder/data."""
        self.index.save(*(str(self.folder / part) for part in ("config", "graph", "data")))

    def _data_loader(self, path: Path):
        """The loader of the saved vectors."""
        return svs.VectorDataLoader(str(path), svs.DataType.float32)

    def open(self, folder: Path) -> None:
        """svs.Vamana(config, GraphLoader, data loader, distance)."""
        self._ready(svs.Vamana(str(folder / "config"), svs.GraphLoader(str(folder / "graph")),
                               self._data_loader(folder / "data"), DISTANCES[self.metric], num_threads=1))

    def close(self) -> None:
        """Drops the index."""
        self.index = None


ADAPTER = SvsVamana
