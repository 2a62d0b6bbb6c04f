"""Recall@k that counts ties: a returned id is correct when it is one of the true k nearest or
when its exact distance equals the k-th true distance (duplicate vectors tie, and any of them is a
right answer)."""

from __future__ import annotations

import numpy as np

from .datasets import distances

TIE_TOLERANCE = 1e-9  # relative; the distances compared are computed the same way in float64


def recall_at_k(found: np.ndarray, truth: np.ndarray, truth_dist: np.ndarray, base: np.ndarray,
                queries: np.ndarray, metric: str) -> float:
    """Fraction of the k true neighbours found, over all queries. ``found``: (queries, >=k) ids,
    -1 for missing; ``truth``/``truth_dist``: (queries, k) true ids and their distances, nearest
    first; ``base`` may be a memory map (only the found rows are read). An id returned twice in a
    row counts once. Cost: k distance evaluations per query."""
    k = truth.shape[1]
    found = np.asarray(found, dtype=np.int64)[:, :k]
    if found.shape[1] < k:
        found = np.pad(found, ((0, 0), (0, k - found.shape[1])), constant_values=-1)
    exact = (found[:, :, None] == truth[:, None, :]).any(axis=2)
    kth = truth_dist[:, -1:]
    tied = distances(base, queries, found, metric) <= kth + TIE_TOLERANCE * np.maximum(1.0, np.abs(kth))
    good = (exact | tied) & (found >= 0)
    ordered = np.sort(found, axis=1)
    repeats = ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).sum()
    return float(good.sum() - repeats) / truth.size
