"""get, delete and upsert: records come back exactly, deleted ids never return, upserts replace,
and recall holds after deleting 30% of siftsmall. Every test runs on both backends: embedded, and a
client of a test server (conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

import omendb
from data import row_ids

SERVED = True  # tests taking db or open_db run embedded and against a test server (conftest.py)


@pytest.fixture
def docs(db):
    """Three records with metadata in an l2 collection."""
    collection = db.collection("docs", dim=3)
    collection.add(
        ids=["a", "b", "c"],
        vectors=[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        metadata=[{"n": 1}, None, {"tags": ["x", "y"]}],
    )
    return collection


def test_get_returns_records_in_the_order_asked(docs):
    """get() gives each id's record (id, float32 vector, metadata) or None, in the order asked."""
    records = docs.get(["c", "missing", "a"])
    assert [r.id if r else None for r in records] == ["c", None, "a"]
    assert records[0].vector.dtype == np.float32
    np.testing.assert_array_equal(records[0].vector, [0, 0, 1])
    assert records[0].metadata == {"tags": ["x", "y"]}
    assert docs.get(["b"])[0].metadata == {}


def test_get_returns_normalised_vectors_for_cosine(db):
    """A cosine collection stores (and returns) unit vectors; a zero vector stays zero."""
    collection = db.collection("cos", dim=2, metric="cosine")
    collection.add(ids=["v", "zero"], vectors=[[3, 4], [0, 0]])
    np.testing.assert_allclose(collection.get(["v"])[0].vector, [0.6, 0.8], rtol=1e-6)
    np.testing.assert_array_equal(collection.get(["zero"])[0].vector, [0, 0])


def test_delete_counts_existing_ids_and_hides_them_at_once(docs):
    """delete() returns how many existed; they leave len(), get() and every search at once."""
    assert docs.delete(["a", "missing", "a"]) == 1
    assert len(docs) == 2
    assert docs.get(["a"]) == [None]
    assert sorted(hit.id for hit in docs.search([1, 0, 0], k=10)) == ["b", "c"]
    ids, distances = docs.search_batch([[1, 0, 0]], k=3)
    assert "a" not in ids[0].tolist() and ids[0, 2] == "" and np.isinf(distances[0, 2])
    assert docs.delete([]) == 0


def test_deleted_id_can_be_added_again(docs):
    """After delete, the same id can be added with a new vector."""
    docs.delete(["a"])
    docs.add(ids=["a"], vectors=[[0, 0, 9]])
    np.testing.assert_array_equal(docs.get(["a"])[0].vector, [0, 0, 9])
    assert docs.search([0, 0, 9], k=1)[0].id == "a"


def test_upsert_replaces_existing_and_inserts_new(docs):
    """upsert() replaces vector and metadata of existing ids and adds the others."""
    docs.upsert(ids=["a", "d"], vectors=[[0, 0, 7], [5, 5, 5]], metadata=[{"n": 2}, {"new": True}])
    assert len(docs) == 4
    record = docs.get(["a"])[0]
    np.testing.assert_array_equal(record.vector, [0, 0, 7])
    assert record.metadata == {"n": 2}
    assert docs.search([1, 0, 0], k=1)[0].id == "b"


@pytest.mark.parametrize("call", ["delete", "get"])
@pytest.mark.parametrize("bad, message", [("a", "ids must be a list"), ([1], r"ids\[0\] must be a str")])
def test_bad_ids_raise_and_change_nothing(docs, call, bad, message):
    """delete() and get() refuse ids that are not a list of str, changing nothing."""
    with pytest.raises(omendb.InvalidArgumentError, match=message):
        getattr(docs, call)(bad)
    assert len(docs) == 3


def test_upsert_with_repeated_id_raises_and_changes_nothing(docs):
    """An id twice in one upsert batch raises DuplicateIdError and writes nothing."""
    with pytest.raises(omendb.DuplicateIdError, match="'a' appears more than once"):
        docs.upsert(ids=["a", "a"], vectors=[[1, 1, 1], [2, 2, 2]])
    np.testing.assert_array_equal(docs.get(["a"])[0].vector, [1, 0, 0])
    assert len(docs) == 3


def test_calls_on_a_dropped_collection_raise_closed(db, docs):
    """get, delete and upsert on a dropped collection raise ClosedError."""
    db.drop_collection("docs")
    for call in (lambda: docs.get(["a"]), lambda: docs.delete(["a"]),
                 lambda: docs.upsert(ids=["a"], vectors=[[1, 1, 1]])):
        with pytest.raises(omendb.ClosedError):
            call()


def test_siftsmall_recall_after_deleting_30_percent(open_db, siftsmall):
    """After deleting a random 30% of siftsmall, recall@10 at ef=64 against exact search over the
    remaining 70% is at least 0.95, and no deleted id is ever returned."""
    base, queries = siftsmall.base, siftsmall.queries
    with open_db() as database:
        collection = database.collection("sift", dim=base.shape[1])
        collection.add(ids=row_ids(len(base)), vectors=base)
        deleted = np.random.default_rng(7).permutation(len(base))[: len(base) * 3 // 10]
        assert collection.delete([row_ids(len(base))[i] for i in deleted]) == len(deleted)
        assert len(collection) == len(base) - len(deleted)
        found, _ = collection.search_batch(queries, k=10, ef=64)
        truth, _ = collection.search_batch(queries, k=10, exact=True)
    gone = set(row_ids(len(base))[i] for i in deleted)
    assert not gone & set(found.ravel().tolist())
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.tolist(), truth.tolist())])
    print(f"\nsiftsmall recall@10 at ef=64 after deleting 30%: {recall:.4f}")
    assert recall >= 0.95


def test_compact_reclaims_deleted_slots_and_keeps_records(db, rng):
    """compact() returns the slots it reclaimed; records and search results survive it."""
    collection = db.collection("many", dim=8)
    vectors = rng.standard_normal((3000, 8)).astype(np.float32)
    ids = row_ids(len(vectors))
    collection.add(ids=ids, vectors=vectors, metadata=[{"i": i} for i in range(len(vectors))])
    assert collection.delete(ids[:300]) == 300
    assert collection.compact() == 300
    assert collection.compact() == 0
    assert len(collection) == 2700
    record = collection.get([ids[2999]])[0]
    np.testing.assert_array_equal(record.vector, vectors[2999])
    assert record.metadata == {"i": 2999}
    assert collection.search(vectors[1500], k=1)[0].id == ids[1500]
    assert collection.get([ids[0]]) == [None]
