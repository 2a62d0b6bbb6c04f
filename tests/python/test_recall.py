"""Recall on real data from ../shared/data (skipped when it is absent). Run with `pytest -s` to see
the measured recalls."""

from __future__ import annotations

import numpy as np
import pytest

import omendb
from data import reference_distances

K = 10
MINILM_QUERIES = 100
TIE_TOLERANCE = 1e-6


def ids_to_rows(ids) -> np.ndarray:
    """Base row numbers from ids "0", "1", ... (NumPy str array or nested lists)."""
    return np.asarray(ids).astype(np.int64)


def recall_against_ids(found: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of each query's true k nearest ids among the k found, over all queries."""
    return float(np.mean([len(set(row) & set(true_row)) / K for row, true_row in zip(found, truth)]))


def recall_with_ties(found: np.ndarray, true_distances: np.ndarray) -> float:
    """Fraction of found rows whose true distance is at most the query's k-th true distance
    (+ TIE_TOLERANCE): a tied neighbour counts as correct whichever of the ties is returned."""
    kth = np.sort(true_distances, axis=1)[:, K - 1 : K]
    return float((np.take_along_axis(true_distances, found, axis=1) <= kth + TIE_TOLERANCE).mean())


@pytest.fixture(scope="module", params=["none", "sq8"])
def sift_collection(request, siftsmall):
    """siftsmall's 10,000 base vectors, id = row number, l2, M=16, ef_construction=200, in both
    quantization modes (sq8 walks the graph on 8-bit codes and re-ranks with the floats)."""
    with omendb.open(":memory:") as database:
        collection = database.collection(
            "siftsmall", dim=128, metric="l2", m=16, ef_construction=200, quantization=request.param
        )
        collection.add(ids=[str(i) for i in range(len(siftsmall.base))], vectors=siftsmall.base)
        yield collection


@pytest.mark.parametrize("ef, required", [(32, 0.98), (64, 0.99)])
def test_siftsmall_recall(siftsmall, sift_collection, ef, required):
    """recall@10 against the shipped ground truth meets the bar with search() and search_batch()."""
    truth = siftsmall.ground_truth[:, :K]
    single = ids_to_rows([[hit.id for hit in sift_collection.search(query, k=K, ef=ef)] for query in siftsmall.queries])
    batch_ids, _ = sift_collection.search_batch(siftsmall.queries, k=K, ef=ef)
    single_recall = recall_against_ids(single, truth)
    batch_recall = recall_against_ids(ids_to_rows(batch_ids), truth)
    print(f"\nsiftsmall recall@{K} ef={ef}: search() {single_recall:.4f}, search_batch() {batch_recall:.4f}")
    assert single_recall >= required
    assert batch_recall >= required


@pytest.fixture(scope="module")
def minilm_split(minilm):
    """(base, queries, true cosine distances): the first 2,541 rows are the base, the last 100 the
    queries."""
    base, queries = minilm[:-MINILM_QUERIES], minilm[-MINILM_QUERIES:]
    return base, queries, reference_distances(base, queries, "cosine")


@pytest.fixture(scope="module", params=["none", "sq8"])
def minilm_collection(request, minilm_split):
    """The MiniLM base in a cosine collection, id = row number, in both quantization modes."""
    base, _, _ = minilm_split
    with omendb.open(":memory:") as database:
        collection = database.collection(
            "minilm", dim=base.shape[1], metric="cosine", quantization=request.param
        )
        collection.add(ids=[str(i) for i in range(len(base))], vectors=base)
        yield collection


def test_minilm_cosine_recall(minilm_split, minilm_collection):
    """Graph search (the base is above the exact-scan size) reaches recall@10 >= 0.97 at ef=64,
    counting ties, with search() and search_batch(), and returns no NaN distance."""
    _, queries, true_distances = minilm_split
    single_hits = [minilm_collection.search(query, k=K, ef=64) for query in queries]
    single = ids_to_rows([[hit.id for hit in hits] for hits in single_hits])
    batch_ids, batch_distances = minilm_collection.search_batch(queries, k=K, ef=64)
    single_recall = recall_with_ties(single, true_distances)
    batch_recall = recall_with_ties(ids_to_rows(batch_ids), true_distances)
    print(f"\nMiniLM cosine recall@{K} ef=64 (ties counted): search() {single_recall:.4f}, "
          f"search_batch() {batch_recall:.4f}")
    assert not np.isnan([hit.distance for hits in single_hits for hit in hits]).any()
    assert not np.isnan(batch_distances).any()
    assert single_recall >= 0.97
    assert batch_recall >= 0.97


def test_minilm_zero_query_is_at_distance_one_from_all(minilm, minilm_collection):
    """A zero query (the set holds 13 zero vectors) returns k hits, all at distance 1.0."""
    zero_rows = np.flatnonzero(~minilm.any(axis=1))
    assert len(zero_rows) == 13
    for exact in (False, True):
        hits = minilm_collection.search(minilm[zero_rows[0]], k=K, exact=exact)
        assert [hit.distance for hit in hits] == [1.0] * K
        _, distances = minilm_collection.search_batch(minilm[zero_rows], k=K, exact=exact)
        assert (distances == 1.0).all()


def test_minilm_stored_zero_vectors_are_at_distance_one(minilm_split, minilm_collection):
    """Each zero vector of the base is returned at distance 1.0 for every query (all records asked)."""
    base, queries, _ = minilm_split
    zero_ids = {str(row) for row in np.flatnonzero(~base.any(axis=1))}
    assert zero_ids
    for exact in (False, True):
        ids, distances = minilm_collection.search_batch(queries, k=len(base), exact=exact)
        for row_ids, row_distances in zip(ids, distances):
            at_zero = row_distances[np.isin(row_ids, list(zero_ids))]
            assert len(at_zero) == len(zero_ids)
            assert (at_zero == 1.0).all()
