"""Seeded synthetic data that behaves like real embeddings, plus exact ground truth.

Real embeddings have a low intrinsic dimension. ``clustered()`` draws points from a mixture of
Gaussians in a low-dimensional latent space (clusters of varied size and spread), maps them to the
target dimension with a fixed random linear map and adds a little isotropic noise, as
shared/BENCHMARKS.md asks. Everything is a function of the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClusteredSpec:
    """Parameters of a clustered set; reported beside benchmark results."""

    n: int
    dim: int
    latent_dim: int = 24
    clusters: int = 256
    noise: float = 0.05
    seed: int = 0


def clustered(spec: ClusteredSpec) -> np.ndarray:
    """``spec.n`` float32 vectors of ``spec.dim`` dims from ``spec`` (see the module docstring)."""
    rng = np.random.default_rng(spec.seed)
    centres = rng.standard_normal((spec.clusters, spec.latent_dim)) * 4.0
    spreads = rng.lognormal(mean=0.0, sigma=0.5, size=spec.clusters)  # varied cluster widths
    weights = rng.dirichlet(np.full(spec.clusters, 0.7))  # varied cluster sizes
    labels = rng.choice(spec.clusters, size=spec.n, p=weights)
    latent = centres[labels] + rng.standard_normal((spec.n, spec.latent_dim)) * spreads[labels, None]
    projection = rng.standard_normal((spec.latent_dim, spec.dim)) / np.sqrt(spec.latent_dim)
    points = latent @ projection
    points += rng.standard_normal(points.shape) * spec.noise * points.std()
    return points.astype(np.float32)


def split_queries(vectors: np.ndarray, queries: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Splits off ``queries`` random rows as queries; returns (base, queries)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(vectors))
    return vectors[order[queries:]], vectors[order[:queries]]


def exact_neighbors(base: np.ndarray, queries: np.ndarray, k: int, metric: str = "l2") -> np.ndarray:
    """Indices of the k nearest base rows for each query (brute force, in blocks), nearest first.

    metric: "l2", "ip" or "cosine", with OmenDB's meaning of each.
    """
    base = np.asarray(base, dtype=np.float32)
    queries = np.asarray(queries, dtype=np.float32)
    if metric == "cosine":
        base = _normalized(base)
        queries = _normalized(queries)
    base_norms = (base.astype(np.float64) ** 2).sum(axis=1)
    result = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 256):
        block = queries[start : start + 256].astype(np.float64)
        scores = block @ base.T.astype(np.float64)
        distances = base_norms[None, :] - 2 * scores if metric == "l2" else -scores
        top = np.argpartition(distances, min(k, len(base) - 1), axis=1)[:, :k]
        order = np.take_along_axis(distances, top, axis=1).argsort(axis=1, kind="stable")
        result[start : start + 256] = np.take_along_axis(top, order, axis=1)
    return result


def _normalized(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
