"""Behaviour of the in-memory Python API on valid input: databases, collections and records.
Searches are covered by test_api_search.py. Tests taking ``db`` or ``open_db`` run on both
backends: the embedded database and a client of a test server (see conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import omendb
from data import hits_as_tuples, row_ids

SERVED = True  # tests taking db or open_db run embedded and against a test server (conftest.py)

# --- databases and collections ------------------------------------------------------------------


@pytest.mark.embedded_only("a client's path is the server's URL")
def test_open_memory_database(db):
    """open(":memory:") gives an open database that remembers its path."""
    assert db.path == ":memory:"
    assert not db.closed
    assert "open" in repr(db)


def test_open_accepts_pathlike_and_threads():
    """A PathLike ":memory:" and an explicit thread count are accepted."""
    with omendb.open(Path(":memory:"), threads=1) as database:
        assert database.collections() == []


def test_collection_is_created_with_its_options(db):
    """A new collection reports its name, dim, metric, m and ef_construction and starts empty."""
    collection = db.collection("docs", dim=5, metric="cosine", m=8, ef_construction=50)
    assert (collection.name, collection.dim, collection.metric, len(collection)) == ("docs", 5, "cosine", 0)
    assert (collection.m, collection.ef_construction, collection.quantization) == (8, 50, "sq8")  # sq8: the default
    assert "docs" in repr(collection)


def test_collection_get_or_create_returns_the_same_records(db):
    """collection(name) and collection(name, dim, metric) return the existing collection."""
    created = db.collection("docs", dim=3, metric="ip")
    created.add(ids=["a"], vectors=[[1, 2, 3]])
    fetched = db.collection("docs")
    again = db.collection("docs", dim=3, metric="ip")
    again.add(ids=["b"], vectors=[[3, 2, 1]])
    assert len(created) == len(fetched) == len(again) == 2
    assert fetched.metric == "ip"


def test_existing_collection_keeps_its_build_options(db):
    """Different m / ef_construction on an existing collection return it unchanged."""
    db.collection("docs", dim=3, m=16)
    kept = db.collection("docs", dim=3, m=4, ef_construction=10)
    assert (kept.dim, kept.m, kept.ef_construction) == (3, 16, 100)


def test_missing_collection_without_dim_raises_not_found(db):
    """collection(name) without dim raises NotFoundError (a KeyError) for a missing name."""
    with pytest.raises(omendb.NotFoundError, match="'ghost'.*dim=") as raised:
        db.collection("ghost")
    assert isinstance(raised.value, KeyError)
    assert db.collections() == []


@pytest.mark.parametrize(
    "dim, metric, message",
    [(4, "l2", "'docs' exists with dim=3, not dim=4"), (3, "cosine", "'docs' exists with metric='l2', not 'cosine'")],
)
def test_existing_collection_with_other_dim_or_metric_raises(db, dim, metric, message):
    """Asking for an existing collection with another dim or metric raises InvalidArgumentError."""
    db.collection("docs", dim=3, metric="l2")
    with pytest.raises(omendb.InvalidArgumentError, match=message):
        db.collection("docs", dim=dim, metric=metric)


def test_existing_collection_is_returned_when_metric_is_not_given(db):
    """collection(name, dim) returns an existing cosine collection: an omitted metric is not compared."""
    db.collection("docs", dim=3, metric="cosine")
    assert db.collection("docs", dim=3).metric == "cosine"


def test_collections_lists_names_sorted(db):
    """collections() returns every name, sorted."""
    for name in ["beta", "alpha", "Gamma", "a.b-c_d"]:
        db.collection(name, dim=2)
    assert db.collections() == ["Gamma", "a.b-c_d", "alpha", "beta"]


def test_drop_collection_closes_its_handles(db):
    """After drop_collection, the name is gone and old handles raise ClosedError."""
    collection = db.collection("docs", dim=2)
    collection.add(ids=["a"], vectors=[[1, 2]])
    db.drop_collection("docs")
    assert db.collections() == []
    with pytest.raises(omendb.ClosedError, match="'docs' is closed"):
        collection.search([1, 2])
    with pytest.raises(omendb.ClosedError):
        collection.search_batch([[1, 2]])
    with pytest.raises(omendb.ClosedError):
        collection.add(ids=["b"], vectors=[[3, 4]])


def test_drop_then_create_starts_empty(db):
    """A collection created again after a drop holds nothing of the old one."""
    db.collection("docs", dim=2).add(ids=["a"], vectors=[[1, 2]])
    db.drop_collection("docs")
    recreated = db.collection("docs", dim=4)
    assert (recreated.dim, len(recreated)) == (4, 0)


def test_drop_missing_collection_raises_not_found(db):
    """drop_collection of an unknown name raises NotFoundError naming it."""
    with pytest.raises(omendb.NotFoundError, match="'ghost'"):
        db.drop_collection("ghost")


def test_close_makes_every_later_call_raise_closed(db):
    """After close(), database and collection calls raise ClosedError; close() is idempotent."""
    collection = db.collection("docs", dim=2)
    db.close()
    db.close()
    assert db.closed and "closed" in repr(db)
    for call in (
        lambda: db.collection("docs"),
        lambda: db.collection("new", dim=2),
        lambda: db.collections(),
        lambda: db.drop_collection("docs"),
        lambda: collection.add(ids=["a"], vectors=[[1, 2]]),
        lambda: collection.search([1, 2]),
        lambda: collection.search_batch([[1, 2]]),
    ):
        with pytest.raises(omendb.ClosedError):
            call()


@pytest.mark.parametrize("how", ["drop", "close"])
def test_len_of_closed_collection_raises_closed(db, how):
    """len() of a dropped collection, or of one whose database closed, raises ClosedError."""
    collection = db.collection("docs", dim=2)
    collection.add(ids=["a"], vectors=[[1, 2]])
    if how == "drop":
        db.drop_collection("docs")
    else:
        db.close()
    with pytest.raises(omendb.ClosedError):
        len(collection)


def test_context_manager_closes_database_even_on_error(open_db):
    """`with omendb.open(...)` closes the database on normal exit and on an exception."""
    with open_db() as database:
        database.collection("docs", dim=2)
    assert database.closed
    with pytest.raises(RuntimeError), open_db() as failing:
        raise RuntimeError("boom")
    assert failing.closed
    with pytest.raises(omendb.ClosedError):
        failing.collections()


# --- records: ids, metadata, vectors -------------------------------------------------------------

METADATA_OF_EVERY_TYPE = {
    "none": None,
    "true": True,
    "false": False,
    "zero": 0,
    "one": 1,
    "int_max": 2**63 - 1,
    "int_min": -(2**63),
    "float": 0.1,
    "float_whole": 1.0,
    "float_tiny": 5e-324,
    "float_huge": 1.7976931348623157e308,
    "text": "naïve 🙂 日本語",
    "empty_text": "",
    "tags": ["a", "🙂", ""],
    "no_tags": [],
    "ключ ✓": "unicode key",
}


def test_ids_and_metadata_round_trip_exactly(db):
    """Unicode ids and every metadata value type come back equal and of the same type."""
    ids = ["plain", "naïve", "日本語", "emoji 🙂🚀", " spaced id ", "x" * 1024, "é" * 512]
    metadata = [dict(METADATA_OF_EVERY_TYPE, n=i) for i in range(len(ids))]
    collection = db.collection("docs", dim=len(ids))
    collection.add(ids=ids, vectors=np.eye(len(ids)), metadata=metadata)
    for row, (expected_id, expected) in enumerate(zip(ids, metadata)):
        (hit,) = collection.search(np.eye(len(ids))[row], k=1)
        assert hit.id == expected_id
        assert hit.metadata == expected
        assert {key: type(value) for key, value in hit.metadata.items()} == {
            key: type(value) for key, value in expected.items()
        }


def test_metadata_tuple_of_str_comes_back_as_list(db):
    """A tuple of str is stored as a list of str."""
    collection = db.collection("docs", dim=2)
    collection.add(ids=["a"], vectors=[[1, 2]], metadata=[{"tags": ("x", "y")}])
    assert collection.search([1, 2])[0].metadata == {"tags": ["x", "y"]}


def test_missing_metadata_reads_as_empty_dict(db):
    """Records added without metadata, or with None entries, have metadata {}."""
    collection = db.collection("docs", dim=1)
    collection.add(ids=["bare"], vectors=[[0]])
    collection.add(ids=["none", "some"], vectors=[[1], [2]], metadata=[None, {"k": 1}])
    found = {hit.id: hit.metadata for hit in collection.search([0], k=3)}
    assert found == {"bare": {}, "none": {}, "some": {"k": 1}}


def test_stored_records_are_copies(db):
    """Changing the input array, the input dict or a returned dict does not change stored data."""
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    metadata = [{"tags": ["a"]}, {"n": 1}]
    collection = db.collection("docs", dim=2)
    collection.add(ids=["a", "b"], vectors=vectors, metadata=metadata)
    vectors[:] = 100
    metadata[0]["tags"].append("changed")
    collection.search([1, 0], k=1)[0].metadata["tags"].append("changed")
    assert hits_as_tuples(collection.search([1, 0], k=2)) == [
        ("a", 0.0, {"tags": ["a"]}),
        ("b", 2.0, {"n": 1}),
    ]


def test_len_counts_records_over_many_adds(db, rng):
    """len() grows by each batch's size over many adds of varied sizes."""
    collection = db.collection("docs", dim=4, ef_construction=32)
    expected = 0
    for batch, size in enumerate(rng.integers(1, 200, size=40)):
        collection.add(ids=row_ids(size, f"b{batch}-"), vectors=rng.standard_normal((size, 4)))
        expected += int(size)
        assert len(collection) == expected
    assert expected > 2048  # crossed into graph search on the way


def test_ids_accept_tuple_and_numpy_array(db):
    """ids may be a tuple or a NumPy str array as well as a list."""
    collection = db.collection("docs", dim=1)
    collection.add(ids=("a", "b"), vectors=[[1], [2]])
    collection.add(ids=np.array(["c", "d"]), vectors=[[3], [4]])
    assert sorted(hit.id for hit in collection.search([0], k=4)) == ["a", "b", "c", "d"]


def test_other_dtypes_and_layouts_give_identical_results(db, rng):
    """float64, int, list, Fortran-order and strided inputs act exactly like float32 C arrays."""
    values = rng.integers(-50, 50, size=(60, 8))
    query = rng.integers(-50, 50, size=8)
    strided = np.zeros((60, 16), dtype=np.float32)
    strided[:, ::2] = values
    variants = {
        "float32": values.astype(np.float32),
        "float64": values.astype(np.float64),
        "int64": values,
        "int16": values.astype(np.int16),
        "list": values.tolist(),
        "fortran": np.asfortranarray(values.astype(np.float32)),
        "strided": strided[:, ::2],
    }
    query_variants = [query.astype(np.float32), query, query.tolist(), np.repeat(query.astype(np.float64), 2)[::2]]
    reference = db.collection("reference", dim=8)
    reference.add(ids=row_ids(60), vectors=variants["float32"])
    expected = hits_as_tuples(reference.search(query.astype(np.float32), k=10))
    for name, vectors in variants.items():
        collection = db.collection(name, dim=8)
        collection.add(ids=row_ids(60), vectors=vectors)
        for variant in query_variants:
            assert hits_as_tuples(collection.search(variant, k=10)) == expected, name
        batch_ids, _ = collection.search_batch(np.asfortranarray([query, -query]), k=10)
        assert list(batch_ids[0]) == [hit[0] for hit in expected]
