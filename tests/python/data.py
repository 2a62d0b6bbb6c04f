"""Test data: loaders for the offline benchmark sets in ../shared/data, NumPy reference distances
and small helpers to make ids and compare hits.

The formats are described in ../shared/data/README.md. The folder is found through the environment
variable OMENDB_DATA_DIR, else at <repository>/../shared/data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[2]

SIFTSMALL_FILES = (
    "siftsmall/siftsmall_base.fvecs",
    "siftsmall/siftsmall_query.fvecs",
    "siftsmall/siftsmall_groundtruth.ivecs",
)
MINILM_FILE = "luceneutil-minilm-384/vector-task-minilm.vec"
MINILM_DIM = 384


def data_dir() -> Path:
    """The shared data folder: $OMENDB_DATA_DIR when set, else <repository>/../shared/data."""
    configured = os.environ.get("OMENDB_DATA_DIR")
    return Path(configured) if configured else REPOSITORY.parent / "shared" / "data"


def read_vecs(path: Path, dtype: type) -> np.ndarray:
    """A .fvecs (dtype float32) or .ivecs (dtype int32) file as an (n, d) array.

    Each record is an int32 dimension d followed by d 4-byte values; every record must have the
    same d.
    """
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    if raw.size % (dim + 1) != 0:
        raise ValueError(f"{path}: {raw.size * 4} bytes is not a whole number of {dim}-d records")
    records = raw.reshape(-1, dim + 1)
    if not (records[:, 0] == dim).all():
        raise ValueError(f"{path}: records of different dimensions")
    return np.ascontiguousarray(records[:, 1:]).view(dtype)


@dataclass(frozen=True)
class Siftsmall:
    """ANN_SIFT10K: 10,000 base and 100 query vectors (128-d), and the ids of each query's 100
    nearest base rows under L2, nearest first."""

    base: np.ndarray
    queries: np.ndarray
    ground_truth: np.ndarray


def load_siftsmall(root: Path) -> Siftsmall:
    """The siftsmall set from ``root``/siftsmall."""
    base, queries, truth = (root / name for name in SIFTSMALL_FILES)
    return Siftsmall(read_vecs(base, np.float32), read_vecs(queries, np.float32), read_vecs(truth, np.int32))


def load_minilm(root: Path) -> np.ndarray:
    """The 2,641 MiniLM text embeddings (384-d float32; 13 are all zeros) as an (n, 384) array."""
    path = root / MINILM_FILE
    raw = np.fromfile(path, dtype="<f4")
    if raw.size % MINILM_DIM != 0:
        raise ValueError(f"{path}: size is not a whole number of {MINILM_DIM}-d float32 rows")
    return raw.reshape(-1, MINILM_DIM).astype(np.float32)


def reference_distances(base: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """OmenDB's distances from each query to each base row, in float64: shape (queries, base).

    l2: squared Euclidean; ip: -dot; cosine: 1 - cos, where a zero vector is at distance 1 from
    everything.
    """
    base = np.asarray(base, dtype=np.float64)
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    if metric == "l2":
        squared = (queries**2).sum(axis=1)[:, None] + (base**2).sum(axis=1)[None, :] - 2 * queries @ base.T
        return np.maximum(squared, 0.0)
    if metric == "ip":
        return -(queries @ base.T)
    return 1.0 - unit_rows(queries) @ unit_rows(base).T


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to unit L2 norm; zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def row_ids(count: int, prefix: str = "r") -> list[str]:
    """Ids "<prefix>0" ... "<prefix><count-1>", one per row."""
    return [f"{prefix}{i}" for i in range(count)]


def hits_as_tuples(hits) -> list[tuple]:
    """Search hits as comparable (id, distance, metadata) tuples."""
    return [(hit.id, hit.distance, hit.metadata) for hit in hits]
