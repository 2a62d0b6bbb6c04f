"""The data sets: real ones from ../shared/data and generated clustered ones, each prepared once
into a cache folder as .npy files (base, queries, exact top-k truth with distances, a metadata
bucket per row and the exact truth of the filtered queries). Never committed (.cache/ is ignored).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
BUCKETS = 100  # the metadata field "bucket" takes values 0..99; "bucket < t" matches t%
BUCKET_SEED = 7
FORMAT = 1  # bump when the prepared files change meaning
FILTERED_QUERIES = 200  # filtered truth is kept for the first N queries; a run uses a prefix of them


@dataclass(frozen=True)
class DataSpec:
    """A data set as the configuration names it."""

    name: str
    kind: str  # "siftsmall" | "mnist" | "minilm" | "clustered"
    metric: str
    n: int = 0  # clustered: base vectors
    dim: int = 0  # clustered: dimension
    queries: int = 0  # clustered: held-out queries
    seed: int = 0


@dataclass
class Dataset:
    """A prepared data set: where its files are and what it is."""

    name: str
    folder: Path
    metric: str
    n: int
    dim: int
    queries: int
    description: str
    params: dict = field(default_factory=dict)

    def load(self, part: str, mmap: bool = False) -> np.ndarray:
        """One prepared array: base, queries, truth, truth_dist, buckets, filtered-<t>[-dist]."""
        return np.load(self.folder / f"{part}.npy", mmap_mode="r" if mmap else None)

    def record(self) -> dict:
        """What the results file says about the set."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items() if k != "folder"}


SPECS = {
    s.name: s
    for s in (
        DataSpec("siftsmall", "siftsmall", "l2"),
        DataSpec("mnist", "mnist", "l2"),
        DataSpec("minilm", "minilm", "cosine"),
        DataSpec("clustered-3k-32", "clustered", "l2", n=3_000, dim=32, queries=50),
        DataSpec("clustered-20k-128", "clustered", "l2", n=20_000, dim=128, queries=500),
        DataSpec("clustered-100k-128", "clustered", "l2", n=100_000, dim=128, queries=1000),
        DataSpec("clustered-1m-128", "clustered", "l2", n=1_000_000, dim=128, queries=1000),
        DataSpec("clustered-100k-768", "clustered", "l2", n=100_000, dim=768, queries=1000),
    )
}


def data_dir() -> Path:
    """../shared/data, or $OMENDB_DATA_DIR."""
    configured = os.environ.get("OMENDB_DATA_DIR")
    return Path(configured) if configured else REPO.parent / "shared" / "data"


def read_vecs(path: Path, dtype) -> np.ndarray:
    """An .fvecs / .ivecs file (int32 dimension before every row) as an (n, d) array."""
    raw = np.fromfile(path, dtype=np.int32)
    records = raw.reshape(-1, int(raw[0]) + 1)
    return np.ascontiguousarray(records[:, 1:]).view(dtype)


def load_raw(spec: DataSpec, cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str, dict]:
    """(base, queries, shipped truth or None, description, parameters) of one set."""
    root = data_dir()
    if spec.kind == "siftsmall":
        folder = root / "siftsmall"
        return (read_vecs(folder / "siftsmall_base.fvecs", np.float32),
                read_vecs(folder / "siftsmall_query.fvecs", np.float32),
                read_vecs(folder / "siftsmall_groundtruth.ivecs", np.int32).astype(np.int64),
                "ANN_SIFT10K (siftsmall): 10,000 SIFT descriptors, 100 queries, L2; shipped ground truth",
                {"source": "shared/data/siftsmall"})
    if spec.kind == "mnist":
        with gzip.open(root / "mnist-t10k" / "t10k-images-idx3-ubyte.gz") as f:
            images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32)
        return (images[:9000], images[9000:], None,
                "MNIST t10k: 784-d pixel vectors (0..255 as float32); first 9,000 base, last 1,000 queries, L2",
                {"source": "shared/data/mnist-t10k"})
    if spec.kind == "minilm":
        raw = np.fromfile(root / "luceneutil-minilm-384" / "vector-task-minilm.vec", dtype="<f4").reshape(-1, 384)
        rows = raw[np.linalg.norm(raw, axis=1) > 0].astype(np.float32)
        return (rows[:-100], rows[-100:], None,
                f"MiniLM-L6-v2 word embeddings (luceneutil): {len(rows) - 100:,} base + 100 queries, 384-d, "
                f"cosine; the {len(raw) - len(rows)} all-zero rows are left out (cosine is undefined for them)",
                {"source": "shared/data/luceneutil-minilm-384", "zero_rows_dropped": int(len(raw) - len(rows))})
    return load_clustered(spec, cache)


def load_clustered(spec: DataSpec, cache: Path):
    """Base, queries and exact top-10 of omendb.datasets.clustered, through bench/common.cached_split."""
    from common import cached_split
    from omendb.datasets import ClusteredSpec

    clustered = ClusteredSpec(n=spec.n + spec.queries, dim=spec.dim, seed=spec.seed)
    base, queries, truth = cached_split(clustered, spec.queries, 10, cache)
    params = asdict(clustered) | {"base": spec.n, "queries": spec.queries, "split_seed": 1}
    description = (f"generated: {spec.n:,} x {spec.dim}, a Gaussian mixture of {clustered.clusters} clusters "
                   f"in a {clustered.latent_dim}-d latent space mapped to {spec.dim}-d plus noise "
                   f"{clustered.noise} (omendb.datasets.clustered, seed {spec.seed}), {spec.queries:,} held-out "
                   f"queries, L2")
    return base, queries, truth, description, params


def distances(base: np.ndarray, queries: np.ndarray, ids: np.ndarray, metric: str) -> np.ndarray:
    """Float64 distances from each query to the base rows ``ids`` (queries, k); inf for id -1.
    L2: squared Euclidean; cosine: 1 - cos."""
    valid = ids >= 0
    rows = np.asarray(base)[np.where(valid, ids, 0)].astype(np.float64)
    q = queries.astype(np.float64)[:, None, :]
    if metric == "cosine":
        norms = np.linalg.norm(rows, axis=2) * np.linalg.norm(q, axis=2)
        out = 1.0 - (rows * q).sum(axis=2) / np.where(norms > 0, norms, 1.0)
    else:
        out = ((rows - q) ** 2).sum(axis=2)
    return np.where(valid, out, np.inf)


def prepare(name: str, cache: Path, k: int, selectivities: dict) -> Dataset:
    """The data set ``name`` prepared under ``cache``/suite/<name> (made on first use, then reused)."""
    from omendb.datasets import exact_neighbors

    spec = SPECS[name]
    folder = cache / "suite" / name
    meta_path = folder / "dataset.json"
    key = {"format": FORMAT, "spec": asdict(spec), "k": k, "filtered_queries": FILTERED_QUERIES,
           "selectivities": sorted(selectivities.values())}
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return Dataset(folder=folder, **meta["dataset"])
    base, queries, truth, description, params = load_raw(spec, cache)
    base, queries = np.ascontiguousarray(base, np.float32), np.ascontiguousarray(queries, np.float32)
    truth = exact_neighbors(base, queries, k, spec.metric) if truth is None else truth[:, :k]
    folder.mkdir(parents=True, exist_ok=True)
    buckets = np.random.default_rng(BUCKET_SEED).permutation(len(base)).astype(np.int32) % BUCKETS
    arrays = {"base": base, "queries": queries, "truth": truth,
              "truth_dist": distances(base, queries, truth, spec.metric), "buckets": buckets}
    fq = queries[:FILTERED_QUERIES]
    for below in selectivities.values():
        rows = np.flatnonzero(buckets < below)
        ids = rows[exact_neighbors(base[rows], fq, k, spec.metric)]
        arrays[f"filtered-{below}"] = ids
        arrays[f"filtered-{below}-dist"] = distances(base, fq, ids, spec.metric)
    for part, array in arrays.items():
        np.save(folder / f"{part}.npy", array)
    dataset = Dataset(name=name, folder=folder, metric=spec.metric, n=len(base), dim=base.shape[1],
                      queries=len(queries), description=description, params=params)
    meta_path.write_text(json.dumps({"key": key, "dataset": dataset.record()}, indent=1))
    return dataset


def available(name: str) -> str | None:
    """None when the set can be prepared here, else why not (a real set whose files are missing)."""
    spec = SPECS[name]
    needed = {"siftsmall": "siftsmall/siftsmall_base.fvecs", "mnist": "mnist-t10k/t10k-images-idx3-ubyte.gz",
              "minilm": "luceneutil-minilm-384/vector-task-minilm.vec"}.get(spec.kind)
    if needed and not (data_dir() / needed).is_file():
        return f"{data_dir() / needed} is missing (set OMENDB_DATA_DIR to the shared data folder)"
    return None
