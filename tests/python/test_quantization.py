"""Quantized collections (quantization="sq8"): the option, exact distances after the re-rank,
writes (add, upsert, delete, compaction), filters, persistence through checkpoints and log replay,
and format-1 databases (which have no quantization field) reading as "none"."""

from __future__ import annotations

import numpy as np
import pytest

import omendb

DIM = 24
N = 4000  # above the 2,048-record scan threshold: searches walk the graph


@pytest.fixture
def vectors(rng) -> np.ndarray:
    centres = rng.standard_normal((20, DIM)) * 4
    return (centres[rng.integers(0, 20, N)] + rng.standard_normal((N, DIM))).astype(np.float32)


def exact_top(base: np.ndarray, query: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers and distances of the k nearest rows, in float64."""
    b, q = base.astype(np.float64), query.astype(np.float64)
    if metric == "l2":
        d = ((b - q) ** 2).sum(axis=1)
    elif metric == "ip":
        d = -(b @ q)
    else:
        norms = np.linalg.norm(b, axis=1) * np.linalg.norm(q)
        d = 1 - (b @ q) / np.where(norms == 0, 1, norms)
    order = np.argsort(d, kind="stable")[:k]
    return order, d[order]


def test_option_defaults_names_and_errors(db):
    assert db.collection("default", dim=4).quantization == "sq8"
    assert db.collection("plain", dim=4, quantization="none").quantization == "none"
    assert db.collection("coded", dim=4, quantization="sq8").quantization == "sq8"
    assert db.collection("coded", quantization="sq8").quantization == "sq8"
    with pytest.raises(omendb.InvalidArgumentError, match="quantization must be 'sq8' or 'none', got 'pq'"):
        db.collection("bad", dim=4, quantization="pq")
    with pytest.raises(omendb.InvalidArgumentError, match="quantization must be a str, got int"):
        db.collection("bad", dim=4, quantization=8)
    with pytest.raises(omendb.InvalidArgumentError, match="exists with quantization='none', not 'sq8'"):
        db.collection("plain", quantization="sq8")
    assert db.collections() == ["coded", "default", "plain"]


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_hits_carry_exact_float_distances_and_find_the_neighbours(db, vectors, rng, metric):
    """Recall@10 at ef=64 as high as the float mode's (within 0.03), and at least 0.95 where the
    float graph reaches it: HNSW's inner-product graph on unnormalised clustered data reaches only
    about 0.73 in both modes. ef_construction=200: on this 24-d data with queries between the
    clusters, the default of 100 reaches about 0.90 (cosine) in both modes."""
    recalls = {}
    queries = rng.standard_normal((30, DIM)).astype(np.float32) * 4
    for quantization in ("none", "sq8"):
        col = db.collection(quantization, dim=DIM, metric=metric, ef_construction=200,
                            quantization=quantization)
        col.add(ids=[str(i) for i in range(N)], vectors=vectors)
        found = 0
        for query in queries:
            hits = col.search(query, k=10, ef=64)
            rows, _ = exact_top(vectors, query, 10, metric)
            found += len({int(h.id) for h in hits} & set(rows.tolist()))
            for hit in hits:  # the distance of each hit is the float distance, not the code's
                _, exact = exact_top(vectors[int(hit.id)][None, :], query, 1, metric)
                assert hit.distance == pytest.approx(exact[0], rel=1e-4, abs=1e-4)
            assert [h.distance for h in hits] == sorted(h.distance for h in hits)
        recalls[quantization] = found / 300
    assert recalls["sq8"] >= recalls["none"] - 0.03, recalls
    if metric != "ip":
        assert recalls["sq8"] >= 0.95, recalls


def test_writes_deletes_upserts_compaction_and_filters(db, vectors):
    col = db.collection("c", dim=DIM, quantization="sq8")
    col.add(ids=[str(i) for i in range(N)], vectors=vectors,
            metadata=[{"even": i % 2 == 0} for i in range(N)])
    deleted = [str(i) for i in range(0, N, 3)]
    col.delete(deleted)
    gone = set(deleted)
    for i in range(1, 200, 3):  # live records are found at distance 0; deleted ones never
        hits = col.search(vectors[i], k=5)
        assert hits[0].id == str(i) and hits[0].distance == 0.0
        assert not gone & {h.id for h in hits}
    moved = (vectors[2] + 0.5).astype(np.float32)
    col.upsert(ids=["1"], vectors=moved[None, :])
    assert col.search(moved, k=1)[0].id == "1"
    assert col.search(vectors[1], k=1)[0].id != "1"
    col.compact()  # the delete of a third compacted already (by itself past a quarter)
    assert col.compact() == 0
    assert len(col) == N - len(deleted)
    for i in range(2, 300, 3):
        assert col.search(vectors[i], k=1)[0].id == str(i)
    hits = col.search(vectors[4], k=10, where={"even": True})
    assert hits[0].id == "4" and all(int(h.id) % 2 == 0 for h in hits)
    ids, distances = col.search_batch(vectors[[2, 4, 5]], k=3)
    assert list(ids[:, 0]) == ["2", "4", "5"] and (distances[:, 0] == 0).all()


def test_persists_through_checkpoint_reopen_and_log_replay(tmp_path, vectors):
    path = str(tmp_path / "db")
    with omendb.open(path) as db:
        col = db.collection("c", dim=DIM, metric="cosine", quantization="sq8")
        col.add(ids=[str(i) for i in range(3000)], vectors=vectors[:3000])
        db.checkpoint()
        col.add(ids=[str(i) for i in range(3000, N)], vectors=vectors[3000:])  # the log tail
        reader = omendb.open(path, read_only=True)  # replays the tail
        for db_view in (db, reader):
            view = db_view.collection("c")
            assert view.quantization == "sq8" and len(view) == N
            for i in (5, 2999, 3500, N - 1):
                hit = view.search(vectors[i], k=1)[0]
                assert hit.id == str(i) and hit.distance == pytest.approx(0.0, abs=1e-5)
        reader.close()
    with omendb.open(path) as db:
        col = db.collection("c", quantization="sq8")
        assert len(col) == N
        assert col.search(vectors[3700], k=1)[0].id == "3700"


def test_mapped_floats_survive_writes_checkpoints_compaction_and_reopens(tmp_path, vectors):
    """A reopened sq8 collection reads its snapshot's floats through a memory map: rows written
    after the reopen, upserts over mapped rows, deletes, a checkpoint (which writes the mapped rows
    out again), a compaction and further reopens keep every vector bit for bit."""
    path = str(tmp_path / "db")
    model = {str(i): vectors[i] for i in range(3000)}
    with omendb.open(path) as db:
        db.collection("c", dim=DIM, quantization="sq8").add(ids=list(model), vectors=vectors[:3000])
    for round_ in range(3):
        with omendb.open(path) as db:
            col = db.collection("c")
            fresh = [f"n{round_}-{i}" for i in range(200)]
            fresh_vectors = vectors[3000 + round_ * 200:3200 + round_ * 200]
            col.add(ids=fresh, vectors=fresh_vectors)
            model.update(zip(fresh, fresh_vectors))
            replaced = [str(i) for i in range(round_ * 50, round_ * 50 + 50)]
            replacements = vectors[3600 + round_ * 50:3650 + round_ * 50][::-1].copy()
            col.upsert(ids=replaced, vectors=replacements)
            model.update(zip(replaced, replacements))
            gone = [str(i) for i in range(2000 + round_ * 30, 2000 + round_ * 30 + 30)]
            col.delete(gone)
            for id_ in gone:
                del model[id_]
            db.checkpoint()
            if round_ == 1:
                col.compact()
        with omendb.open(path, read_only=True) as db:
            col = db.collection("c")
            assert len(col) == len(model)
            ids = list(model)
            records = col.get(ids)
            for id_, record in zip(ids, records):
                assert record.vector.tobytes() == model[id_].tobytes(), id_
            for id_ in ids[::97]:  # graph searches re-rank with the mapped floats
                hit = col.search(model[id_], k=1, ef=200)[0]
                assert hit.id == id_ and hit.distance == pytest.approx(0.0, abs=1e-4)


def rss_file_bytes() -> int:
    """This process's resident pages mapped from files (RssFile, Linux)."""
    for line in open("/proc/self/status"):
        if line.startswith("RssFile:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no RssFile in /proc/self/status")


def test_reranking_reads_snapshot_floats_outside_the_process_unless_map_floats(tmp_path, rng):
    """A reopened sq8 collection re-ranks with its snapshot's floats read from the file, so they
    stay in the page cache and out of this process's resident memory; map_floats=True reads them
    through the map instead (which the kernel maps into the process as rows are read). Both give
    the same hits, with exact distances."""
    n, dim = 8000, 256
    base = rng.standard_normal((n, dim)).astype(np.float32)
    queries = rng.standard_normal((300, dim)).astype(np.float32)
    path = str(tmp_path / "db")
    with omendb.open(path) as db:
        db.collection("c", dim=dim, quantization="sq8").add(ids=[str(i) for i in range(n)], vectors=base)
    floats_bytes = n * dim * 4
    with omendb.open(path, read_only=True) as db:  # the library's own code pages come in here
        for q in queries[:20]:
            db.collection("c").search(q, k=10)
    hits_by_mode, growth_by_mode = {}, {}
    for map_floats in (False, True):
        before = rss_file_bytes()
        with omendb.open(path, read_only=True, map_floats=map_floats) as db:
            col = db.collection("c")
            hits_by_mode[map_floats] = [col.search(q, k=10) for q in queries]
            growth_by_mode[map_floats] = rss_file_bytes() - before
    assert growth_by_mode[False] < floats_bytes // 16, growth_by_mode
    assert growth_by_mode[True] > floats_bytes // 4, growth_by_mode
    for q, read, mapped in zip(queries, hits_by_mode[False], hits_by_mode[True]):
        assert [(h.id, h.distance) for h in read] == [(h.id, h.distance) for h in mapped]
        rows, distances = exact_top(base, q, 10, "l2")
        found = {h.id: h.distance for h in read}
        for row, distance in zip(rows, distances):
            if str(row) in found:
                assert found[str(row)] == pytest.approx(distance, rel=1e-4)


def test_map_floats_must_be_a_bool(tmp_path):
    with pytest.raises(omendb.InvalidArgumentError, match="map_floats must be a bool, got str"):
        omendb.open(str(tmp_path / "db"), map_floats="yes")
