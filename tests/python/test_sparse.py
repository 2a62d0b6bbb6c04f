"""Sparse vector fields (docs/hybrid.md, "Sparse vectors"): declared with omendb.SparseField,
written as {index: weight} dicts (or (indices, values) pairs), searched by inner product against a
NumPy brute-force reference, through filters, deletes, upserts, compaction, a checkpoint and log
replay; fused with dense signals (RRF checked against a plain-Python reference); bad input refused
without writing anything."""

from __future__ import annotations

import re

import numpy as np
import pytest

import omendb

DIM = 8
FIELDS = {"dense": omendb.VectorField(DIM), "splade": omendb.SparseField()}


def random_sparse(rng: np.random.Generator) -> dict:
    """1 to 10 entries over 150 indices (low ones frequent), positive and negative weights."""
    count = int(rng.integers(1, 11))
    indices = np.unique(np.minimum(rng.integers(0, 150, count), rng.integers(0, 150, count)))
    return {int(i): float(np.float32(rng.uniform(-0.5, 2.0))) for i in indices}


def write(col, rng, prefix: str, count: int, model: dict, upsert: bool = False) -> None:
    """count records "<prefix><i>", every fifth without a sparse vector, even ones {"even": True}."""
    ids = [f"{prefix}{i}" for i in range(count)]
    dense = rng.standard_normal((count, DIM)).astype(np.float32)
    sparse = [None if i % 5 == 4 else random_sparse(rng) for i in range(count)]
    metadata = [{"even": i % 2 == 0} for i in range(count)]
    (col.upsert if upsert else col.add)(ids, vectors={"dense": dense, "splade": sparse}, metadata=metadata)
    for record_id, vector, meta in zip(ids, sparse, metadata):
        model[record_id] = (vector, meta)


def reference(model: dict, query: dict, k: int, even_only: bool = False) -> list:
    """The top k (score, id) by inner product among records sharing an index with the query."""
    scored = []
    for record_id, (vector, meta) in model.items():
        if vector is None or (even_only and not meta["even"]) or not set(vector) & set(query):
            continue
        scored.append((sum(np.float64(vector[i]) * query[i] for i in set(vector) & set(query)), record_id))
    scored.sort(key=lambda pair: -pair[0])
    return scored[:k]


def check(col, model: dict, rng: np.random.Generator, even_only: bool = False) -> None:
    """get() returns every sparse vector; searches match the reference (ids away from ties)."""
    ids = sorted(model)
    for record_id, record in zip(ids, col.get(ids)):
        assert record.vectors.get("splade") == model[record_id][0], record_id
    for _ in range(10):
        query = random_sparse(rng)
        want = reference(model, query, 10, even_only)
        hits = col.search(query, k=10, using="splade", where={"even": True} if even_only else None)
        assert len(hits) == len(want)
        for rank, (hit, (score, record_id)) in enumerate(zip(hits, want)):
            assert hit.score == pytest.approx(score, rel=1e-5, abs=1e-6)
            assert hit.distance == -hit.score
            neighbours = [s for s, _ in want[max(rank - 1, 0):rank + 2] if s is not score]
            if all(abs(s - score) > 1e-5 for s in neighbours):
                assert hit.id == record_id


def test_sparse_search_follows_writes_deletes_and_compaction():
    rng = np.random.default_rng(1)
    with omendb.open(":memory:") as db:
        col = db.collection("docs", vectors=FIELDS)
        assert col.vector_fields == FIELDS
        model: dict = {}
        write(col, rng, "a", 800, model)
        check(col, model, rng)
        check(col, model, rng, even_only=True)
        write(col, rng, "a", 200, model, upsert=True)
        gone = [f"a{i}" for i in range(0, 800, 2)]
        assert col.delete(gone) == len(gone)
        for record_id in gone:
            del model[record_id]
        check(col, model, rng)
        col.compact()
        check(col, model, rng)


def test_sparse_vectors_survive_checkpoint_and_log_replay(tmp_path):
    rng = np.random.default_rng(2)
    model: dict = {}
    db = omendb.open(str(tmp_path / "db"))
    col = db.collection("docs", vectors=FIELDS)
    write(col, rng, "a", 300, model)
    db.checkpoint()
    write(col, rng, "b", 50, model)  # in the log only
    col.delete(["a1"])
    del model["a1"]
    replayed = omendb.open(str(tmp_path / "db"), read_only=True)
    check(replayed.collection("docs"), model, np.random.default_rng(3))
    replayed.close()
    db.close()
    with omendb.open(str(tmp_path / "db")) as reopened:
        assert reopened.collection("docs").vector_fields == FIELDS
        check(reopened.collection("docs"), model, np.random.default_rng(3))


def test_sparse_forms_and_batch_search():
    with omendb.open(":memory:") as db:
        col = db.collection("docs", vectors=FIELDS)
        pair = (np.array([9, 2], dtype=np.int64), np.array([1.0, 0.5], dtype=np.float32))
        col.add(["p", "d"], vectors={"dense": np.zeros((2, DIM)), "splade": [pair, {2: 2.0}]})
        assert col.get(["p"])[0].vectors["splade"] == {2: 0.5, 9: 1.0}  # sorted by index
        ids, distances = col.search_batch([{2: 1.0}, {9: 2.0}, {77: 1.0}], k=2, using="splade")
        assert ids.tolist() == [["d", "p"], ["p", ""], ["", ""]]
        assert distances.tolist() == [[-2.0, -0.5], [-2.0, np.inf], [np.inf, np.inf]]


def test_hybrid_fuses_a_sparse_signal_exactly_as_rrf_says():
    rng = np.random.default_rng(4)
    with omendb.open(":memory:") as db:
        col = db.collection("docs", vectors=FIELDS)
        model: dict = {}
        write(col, rng, "a", 400, model)
        dense_query = rng.standard_normal(DIM).astype(np.float32)
        sparse_query = random_sparse(rng)
        dense = col.search(dense_query, k=64)
        sparse = col.search(sparse_query, k=64, using="splade")
        fused: dict = {}
        for ranking in (dense, sparse):
            for rank, hit in enumerate(ranking, start=1):
                fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (60 + rank)
        want = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:10]
        hits = col.search(vectors={"dense": dense_query, "splade": sparse_query}, k=10)
        assert [h.id for h in hits] == [record_id for record_id, _ in want]
        assert [h.score for h in hits] == pytest.approx([score for _, score in want], rel=1e-6)
        weighted = col.search(vectors={"dense": dense_query, "splade": sparse_query}, k=5,
                              fusion=omendb.Weighted(dense=0.0, splade=1.0))
        assert [h.id for h in weighted] == [h.id for h in sparse[:5]]


@pytest.mark.parametrize("rows, message", [
    ([{1: float("nan")}], "weights must be finite"),
    ([{-1: 1.0}], "indices must be in [0, 2**32)"),
    ([([3, 3], [1.0, 2.0])], "an index is given twice"),
    ([{"a": 1.0}], "indices must be ints"),
    ({1: 1.0}, "must be a list of sparse vectors"),
    ([{1: 1.0}, {2: 1.0}], "has 2 entries for 1 ids"),
    (["text"], "must be a dict {index: weight} or a pair"),
])
def test_bad_sparse_input_writes_nothing(rows, message):
    with omendb.open(":memory:") as db:
        col = db.collection("docs", vectors=FIELDS)
        with pytest.raises(omendb.InvalidArgumentError, match=re.escape(message)):
            col.add(["x"], vectors={"dense": np.ones((1, DIM)), "splade": rows})
        assert len(col) == 0


def test_bad_sparse_queries_and_declarations():
    with omendb.open(":memory:") as db:
        col = db.collection("docs", vectors=FIELDS)
        col.add(["x"], vectors={"dense": np.ones((1, DIM)), "splade": [{1: 1.0}]})
        with pytest.raises(omendb.InvalidArgumentError, match="is empty"):
            col.search({}, using="splade")
        with pytest.raises(omendb.InvalidArgumentError, match="unknown vector field 'nope'"):
            col.search({1: 1.0}, using="nope")
        with pytest.raises(omendb.InvalidArgumentError, match="first field of vectors= must be"):
            db.collection("bad", vectors={"s": omendb.SparseField(), "d": omendb.VectorField(3)})
        with pytest.raises(omendb.InvalidArgumentError, match="may hold only letters"):
            db.collection("named", vectors={"default": omendb.VectorField(3), "x y": omendb.SparseField()})
