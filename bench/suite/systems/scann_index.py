"""ScaNN (Google): a k-means tree over the base (num_leaves = sqrt(n)), asymmetric hashing (AH) of
the vectors in the searched leaves, then exact re-ranking (reorder) of the best AH candidates with
the float32 vectors. Cosine is the dot product on L2-normalised vectors (normalising is timed).

ScaNN has no graph, so M and ef_construction do not apply, and the suite's ef maps to the two
search-time knobs: leaves_to_search = ceil(num_leaves * ef / LEAF_DIVISOR) (ef=64: a quarter of
the leaves) and pre-reorder candidates = k * ceil(ef / REORDER_DIVISOR) (ef=64: 16k).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import scann

from .base import Adapter

DISTANCES = {"l2": "squared_l2", "cosine": "dot_product"}
LEAF_DIVISOR = 256
REORDER_DIVISOR = 4
TREE_SAMPLE = 250_000  # vectors the tree is trained on at most (ScaNN's README example)
DIMS_PER_BLOCK = 2  # AH: dimensions per 4-bit code (ScaNN's recommendation)
AVQ_THRESHOLD = 0.2  # anisotropic quantization for the dot product (ScaNN's README example)


class ScaNN(Adapter):
    """scann_ops_pybind searcher; ScaNN numbers rows in order, which are the row ids."""

    def _unit(self, vectors: np.ndarray) -> np.ndarray:
        """The input itself for L2, an L2-normalised copy for cosine."""
        if self.metric != "cosine":
            return vectors
        return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)

    def _knobs(self, n: int) -> None:
        """num_leaves for ``n`` vectors and the search knobs of the current ef."""
        self.leaves = max(1, round(math.sqrt(n)))
        self.set_ef(self.ef)

    def create(self, folder: Path, n: int) -> None:
        """Nothing to make before the data: ScaNN builds from all vectors at once."""
        self.folder = folder
        self._knobs(n)

    def prepare(self, lo: int, hi: int):
        """Rows lo..hi."""
        return self.base[lo:hi]

    def insert(self, batch) -> None:
        """builder(...).tree(...).score_ah(...).reorder(...).build() on ``threads`` training threads."""
        data = self._unit(batch)
        builder = scann.scann_ops_pybind.builder(data, self.k, DISTANCES[self.metric])
        builder = builder.tree(num_leaves=self.leaves, num_leaves_to_search=self.leaves_to_search,
                               training_sample_size=min(len(data), TREE_SAMPLE), spherical=self.metric == "cosine")
        builder = builder.score_ah(DIMS_PER_BLOCK, anisotropic_quantization_threshold=(
            AVQ_THRESHOLD if self.metric == "cosine" else float("nan")))
        self.searcher = builder.reorder(self.reorder).set_n_training_threads(self.threads).build()
        self.searcher.set_num_threads(self.threads)

    def set_ef(self, ef: int) -> None:
        """leaves_to_search and the pre-reorder candidates for ``ef`` (module docstring)."""
        super().set_ef(ef)
        self.leaves_to_search = min(self.leaves, math.ceil(self.leaves * ef / LEAF_DIVISOR))
        self.reorder = self.k * math.ceil(ef / REORDER_DIVISOR)

    def search(self, query: np.ndarray):
        """search(): one query on the calling thread; the ids."""
        return self.searcher.search(self._unit(query), self.k, self.reorder, self.leaves_to_search)[0]

    def search_batch(self, queries: np.ndarray):
        """search_batched_parallel() on the ``threads`` of set_num_threads; the ids."""
        return self.searcher.search_batched_parallel(self._unit(queries), self.k, self.reorder,
                                                     self.leaves_to_search)[0]

    def ids(self, result) -> list[int]:
        """The ids of one result."""
        return [int(i) for i in result]

    def batch_ids(self, result) -> np.ndarray:
        """The ids of every query's result."""
        return np.asarray(result, dtype=np.int64)

    def save(self) -> None:
        """serialize() into folder/scann with relative paths."""
        target = self.folder / "scann"
        target.mkdir()
        self.searcher.serialize(str(target), relative_path=True)

    def open(self, folder: Path) -> None:
        """load_searcher(); num_leaves follows from the searcher's size, as at the build."""
        self.searcher = scann.scann_ops_pybind.load_searcher(str(folder / "scann"))
        self.searcher.set_num_threads(self.threads)
        self._knobs(self.searcher.size())

    def close(self) -> None:
        """Drops the searcher."""
        self.searcher = None


ADAPTER = ScaNN
