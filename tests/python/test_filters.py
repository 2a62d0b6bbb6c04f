"""Filtered search, count, get and delete with where=: the engine agrees with a plain-Python
evaluator on random filters and metadata (hypothesis), both filter forms agree, malformed filters
raise FilterError, and filtered recall holds at every selectivity on siftsmall."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omendb
from conftest import BACKENDS
from data import row_ids
from filter_reference import matches

SERVED = True  # tests taking db or open_db run embedded and against a test server (conftest.py)

TAGS = ["news", "blog", "spam", "wiki"]


def sample_metadata(i: int) -> dict:
    """Deterministic varied metadata: ints, floats, strings, bools, lists, nulls, missing keys."""
    record = {"year": 2000 + i % 25, "tag": TAGS[i % 4], "score": (i * 37 % 1000) / 10.0}
    if i % 3 == 0:
        record["labels"] = [TAGS[i % 4], TAGS[(i + 1) % 4]]
    if i % 5 == 0:
        record["flag"] = i % 2 == 0
    if i % 7 == 0:
        record["note"] = None
    return record


def module_database(request, backend: str):
    """An embedded in-memory database, or a client of this module's test server."""
    return omendb.open(":memory:") if backend == "embedded" else request.getfixturevalue("module_server").connect()


@pytest.fixture(scope="module", params=BACKENDS)
def records(request):
    """A collection of 3,000 random 8-d vectors with sample_metadata, and that metadata."""
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((3000, 8)).astype(np.float32)
    metadata = [sample_metadata(i) for i in range(len(vectors))]
    db = module_database(request, request.param)
    collection = db.collection("docs", dim=8)
    collection.add(ids=row_ids(len(vectors)), vectors=vectors, metadata=metadata)
    yield collection, vectors, metadata
    db.close()


scalars = st.one_of(
    st.integers(1995, 2030), st.floats(-10, 110, allow_nan=False), st.sampled_from(TAGS), st.booleans(), st.none()
)
fields = st.sampled_from(["year", "tag", "score", "labels", "flag", "note", "absent"])
leaf_ops = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$ne"]), scalars),
    st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), st.one_of(st.integers(1995, 2030), st.floats(-10, 110))),
    st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(scalars, min_size=1, max_size=3)),
    st.tuples(st.just("$exists"), st.booleans()),
    st.tuples(st.just("$contains"), st.sampled_from(TAGS + ["ew", "x"])),
)
leaves = st.builds(lambda field, op: {field: {op[0]: op[1]}}, fields, leaf_ops)
filters = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(lambda c: {"$and": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"$or": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"$not": c}, children),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(filter_=filters)
def test_count_and_get_match_the_reference_evaluator(records, filter_):
    """count(where) and get(where) give exactly the records the Python evaluator accepts."""
    collection, _, metadata = records
    expected = {str(f"r{i}") for i, m in enumerate(metadata) if matches(filter_, m)}
    assert collection.count(filter_) == len(expected)
    assert {record.id for record in collection.get(where=filter_)} == expected


@settings(max_examples=60, deadline=None)
@given(filter_=filters, query=st.integers(0, 2999))
def test_filtered_search_returns_only_matches_and_k_when_k_match(records, filter_, query):
    """Every hit matches; k hits come back whenever at least k records match."""
    collection, vectors, metadata = records
    matching = sum(matches(filter_, m) for m in metadata)
    hits = collection.search(vectors[query], k=10, where=filter_)
    assert len(hits) == min(10, matching)
    assert all(matches(filter_, hit.metadata) for hit in hits)


@pytest.mark.parametrize(
    "as_dict, as_string",
    [
        ({"year": {"$gte": 2020}, "tag": {"$in": ["news", "blog"]}}, "year >= 2020 AND tag IN ('news', 'blog')"),
        ({"$or": [{"score": {"$lt": 5}}, {"tag": "wiki"}]}, "score < 5 OR tag = 'wiki'"),
        ({"$not": {"labels": {"$contains": "spam"}}}, "NOT labels CONTAINS 'spam'"),
        ({"flag": {"$exists": True}, "year": {"$ne": 2003}}, "flag EXISTS AND year != 2003"),
        ({"tag": {"$nin": ["news", "spam"]}}, "tag NOT IN ('news', 'spam')"),
    ],
)
def test_dict_and_string_forms_agree(records, as_dict, as_string):
    """The two forms of one filter select the same records."""
    collection, _, metadata = records
    expected = sum(matches(as_dict, m) for m in metadata)
    assert collection.count(as_dict) == collection.count(as_string) == expected


@pytest.mark.parametrize(
    "where, message",
    [
        ({"year": {"$regex": "x"}}, "unknown operator '\\$regex'"),
        ({"$and": {"year": 1}}, "\\$and"),
        ({"tag": {"$in": "news"}}, "\\$in"),
        ("year >= ", "position 9"),
        ("tag = 'unterminated", "position"),
        (42, "where must be a dict or a str"),
    ],
)
def test_malformed_filters_raise_filter_error(records, where, message):
    """A malformed filter raises FilterError naming the operator or position."""
    collection, vectors, _ = records
    for call in (lambda: collection.search(vectors[0], where=where), lambda: collection.count(where)):
        with pytest.raises(omendb.FilterError, match=message):
            call()


def test_get_where_respects_limit_and_delete_where_deletes(db, rng):
    """get(where, limit) stops at limit; delete(where) deletes every match and nothing else."""
    collection = db.collection("d", dim=2)
    collection.add(ids=row_ids(100), vectors=rng.standard_normal((100, 2)), metadata=[{"n": i} for i in range(100)])
    assert [r.id for r in collection.get(where={"n": {"$lt": 50}}, limit=3)] == ["r0", "r1", "r2"]
    assert collection.delete(where="n >= 90") == 10
    assert len(collection) == 90 and collection.count("n >= 90") == 0
    with pytest.raises(omendb.InvalidArgumentError, match="exactly one"):
        collection.delete()


SELECTIVITIES = {"50%": 2, "10%": 10, "1%": 100, "0.1%": 1000}


@pytest.fixture(scope="module", params=BACKENDS)
def sift_with_metadata(request, siftsmall):
    """siftsmall with metadata: bucket = row % 1000 (for exact selectivities) and year/tag."""
    base = siftsmall.base
    metadata = [{"bucket": i % 1000, "year": 2000 + i % 30, "tag": TAGS[i % 4]} for i in range(len(base))]
    db = module_database(request, request.param)
    collection = db.collection("sift", dim=base.shape[1])
    collection.add(ids=row_ids(len(base)), vectors=base, metadata=metadata)
    yield collection, base, siftsmall.queries, metadata
    db.close()


def filtered_recall(collection, base, queries, metadata, where) -> float:
    """recall@10 of filtered search against exact search over the matching rows."""
    rows = np.array([i for i, m in enumerate(metadata) if matches(where, m)])
    found = 0
    for query in queries:
        distances = ((base[rows] - query) ** 2).sum(axis=1)
        truth = {f"r{i}" for i in rows[np.argsort(distances, kind="stable")[:10]]}
        hits = collection.search(query, k=10, where=where)
        assert all(matches(where, hit.metadata) for hit in hits)
        found += len({hit.id for hit in hits} & truth)
    return found / (len(queries) * min(10, len(rows)))


@pytest.mark.parametrize("name", list(SELECTIVITIES))
def test_siftsmall_filtered_recall_at_each_selectivity(sift_with_metadata, name):
    """recall@10 >= 0.95 against exact filtered truth at 50%, 10%, 1% and 0.1% selectivity."""
    collection, base, queries, metadata = sift_with_metadata
    where = {"bucket": {"$lt": 1000 // SELECTIVITIES[name]}}
    recall = filtered_recall(collection, base, queries, metadata, where)
    print(f"\nsiftsmall filtered recall@10 at {name}: {recall:.4f}")
    assert recall >= 0.95


@pytest.mark.parametrize(
    "where",
    [
        {"year": {"$gte": 2010, "$lt": 2020}},
        {"$and": [{"tag": {"$in": ["news", "blog"]}}, {"$or": [{"year": {"$lt": 2005}}, {"year": {"$gte": 2025}}]}]},
    ],
)
def test_siftsmall_filtered_recall_for_range_and_nested_filters(sift_with_metadata, where):
    """Range and nested $and/$or filters keep recall@10 >= 0.95."""
    collection, base, queries, metadata = sift_with_metadata
    recall = filtered_recall(collection, base, queries, metadata, where)
    print(f"\nsiftsmall filtered recall@10 for {where}: {recall:.4f}")
    assert recall >= 0.95


def test_repeated_filter_sees_every_write(db, rng):
    """A filter searched again after an add, an upsert or a delete answers for the new contents
    (the matches of recent filters are cached per collection until the next write)."""
    collection = db.collection("cached", dim=8)
    vectors = rng.random((3000, 8), dtype=np.float32)
    collection.add(ids=[f"v{i}" for i in range(3000)], vectors=vectors,
                   metadata=[{"group": i % 2} for i in range(3000)])
    query = np.full(8, 5.0, dtype=np.float32)  # far from every stored vector
    where = {"group": 1}
    assert all(hit.metadata == {"group": 1} for hit in collection.search(query, k=5, where=where))
    collection.add(ids=["near"], vectors=[query], metadata=[{"group": 1}])
    assert collection.search(query, k=1, where=where)[0].id == "near"
    collection.upsert(ids=["near"], vectors=[query], metadata=[{"group": 0}])
    assert collection.search(query, k=1, where=where)[0].id != "near"
    assert collection.search(query, k=1, where={"group": 0})[0].id == "near"
    collection.delete(ids=["near"])
    assert collection.search(query, k=1, where={"group": 0})[0].id != "near"
    assert collection.count(where) == 1500
