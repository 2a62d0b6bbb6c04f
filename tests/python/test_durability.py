"""On-disk databases through the Python API: reopening, stored options, exact metadata, the
write lock across processes, read-only processes and refresh(), and recall after reopening and
after deleting. Crashes: test_crash.py; damaged files: test_corruption.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import omendb


def _records(rng: np.random.Generator, n: int, dim: int, prefix: str = "r"):
    ids = [f"{prefix}{i}" for i in range(n)]
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return ids, vectors


def _run_python(code: str) -> str:
    """Runs `code` in a fresh interpreter (another process) and returns its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_reopen_keeps_records_options_and_metadata_exactly(tmp_path, rng):
    """Everything written comes back after close and reopen: vectors bit for bit, every metadata
    value type exactly, the collection's stored options."""
    metadata = [
        {"null": None, "yes": True, "no": False, "int": -(2**62), "float": 0.1, "tiny": 5e-324},
        {"text": "héllo\nworld", "empty": "", "list": ["a", "", "ünï"], "nothing": []},
        {},
    ]
    ids, vectors = _records(rng, 3, 5)
    with omendb.open(tmp_path / "db") as db:
        docs = db.collection("docs", dim=5, metric="cosine", m=8, ef_construction=40)
        docs.add(ids, vectors, metadata=metadata)
        stored = docs.get(ids)
    with omendb.open(tmp_path / "db") as db:
        docs = db.collection("docs")
        assert (docs.dim, docs.metric) == (5, "cosine")
        again = docs.get(ids)
        for before, after, fields in zip(stored, again, metadata):
            assert after.vector.tobytes() == before.vector.tobytes()
            assert after.metadata == fields
            assert {k: type(v) for k, v in after.metadata.items()} == {k: type(v) for k, v in fields.items()}
        with pytest.raises(omendb.InvalidArgumentError, match="exists with dim=5"):
            db.collection("docs", dim=6)
        with pytest.raises(omendb.InvalidArgumentError, match="exists with metric='cosine'"):
            db.collection("docs", metric="l2")


def test_writes_after_reopen_and_deletes_persist(tmp_path, rng):
    """Adds, upserts and deletes across several open/close cycles end in the expected state."""
    path = tmp_path / "db"
    model: dict[str, np.ndarray] = {}
    for cycle in range(3):
        with omendb.open(path) as db:
            docs = db.collection("docs", dim=4)
            ids, vectors = _records(rng, 50, 4, prefix=f"c{cycle}_")
            docs.add(ids, vectors)
            model.update(zip(ids, vectors))
            victims = sorted(model)[::7]
            assert docs.delete(victims) == len(victims)
            for victim in victims:
                del model[victim]
            upserted = sorted(model)[:5]
            fresh = rng.standard_normal((5, 4)).astype(np.float32)
            docs.upsert(upserted, fresh)
            model.update(zip(upserted, fresh))
    with omendb.open(path) as db:
        docs = db.collection("docs")
        assert len(docs) == len(model)
        for record, (id_, vector) in zip(docs.get(list(model)), model.items()):
            assert record.id == id_ and record.vector.tobytes() == vector.tobytes()


@pytest.mark.parametrize("sync", ["full", "normal", "off"])
def test_every_sync_mode_keeps_data_across_close(tmp_path, rng, sync):
    """Each sync mode keeps everything once the database is closed."""
    ids, vectors = _records(rng, 100, 8)
    with omendb.open(tmp_path / "db", sync=sync) as db:
        db.collection("docs", dim=8).add(ids, vectors)
    with omendb.open(tmp_path / "db", read_only=True) as db:
        assert len(db.collection("docs")) == 100


def test_second_writer_in_another_process_gets_locked_error(tmp_path):
    """While one process writes a folder, another process's writer gets LockedError at once, and a
    reader in that process is allowed."""
    path = tmp_path / "db"
    with omendb.open(path) as db:
        db.collection("docs", dim=2).add(["a"], [[1.0, 2.0]])
        out = _run_python(
            f"""
            import omendb
            try:
                omendb.open({str(path)!r})
            except omendb.LockedError as error:
                print("locked:", error)
            with omendb.open({str(path)!r}, read_only=True) as db:
                print("reader sees", len(db.collection("docs")))
            """
        )
    assert "locked: database" in out and "already open for writing" in out
    assert "reader sees 1" in out
    # Once the writer is gone, the lock is free.
    with omendb.open(path):
        pass


def test_second_writer_in_this_process_gets_locked_error(tmp_path):
    """Two writer handles on one folder in one process are refused the same way."""
    with omendb.open(tmp_path / "db"):
        with pytest.raises(omendb.LockedError, match="already open for writing"):
            omendb.open(tmp_path / "db")


def test_reader_process_sees_commits_after_refresh(tmp_path, rng):
    """A read-only handle sees the state at open; refresh() brings new writes, new collections
    and the effect of a checkpoint, while its collection handle stays valid."""
    path = tmp_path / "db"
    writer = omendb.open(path)
    docs = writer.collection("docs", dim=4)
    ids, vectors = _records(rng, 20, 4)
    docs.add(ids, vectors)
    reader = omendb.open(path, read_only=True)
    seen = reader.collection("docs")
    assert len(seen) == 20
    docs.add(["late"], [[1, 2, 3, 4]])
    writer.collection("other", dim=3)
    assert len(seen) == 20
    reader.refresh()
    assert len(seen) == 21 and "other" in reader.collections()
    writer.checkpoint()
    docs.delete(["late", "r0"])
    reader.refresh()
    assert len(seen) == 19 and seen.get(["late"]) == [None]
    with pytest.raises(omendb.ReadOnlyError, match="read-only"):
        seen.add(["x"], [[0, 0, 0, 0]])
    with pytest.raises(omendb.ReadOnlyError):
        reader.collection("new", dim=2)
    with pytest.raises(omendb.ReadOnlyError):
        reader.checkpoint()
    reader.close()
    writer.close()


def test_closed_database_raises_closed_error(tmp_path):
    """Every call on a closed on-disk database raises ClosedError."""
    db = omendb.open(tmp_path / "db")
    docs = db.collection("docs", dim=2)
    db.close()
    for call in (db.collections, db.checkpoint, db.refresh, lambda: db.collection("docs")):
        with pytest.raises(omendb.ClosedError):
            call()
    with pytest.raises(omendb.ClosedError):
        docs.add(["a"], [[1, 2]])


def _recall_at_10(collection: omendb.Collection, queries: np.ndarray, ef: int) -> float:
    found = 0
    for query in queries:
        truth = {hit.id for hit in collection.search(query, k=10, exact=True)}
        found += len(truth & {hit.id for hit in collection.search(query, k=10, ef=ef)})
    return found / (10 * len(queries))


def test_siftsmall_recall_survives_reopen_and_deletes(tmp_path, siftsmall):
    """siftsmall: recall@10 after close and reopen equals recall before; after deleting 30% of
    the records (and reopening), recall@10 on the rest is at least 0.95 at ef=64."""
    ids = [str(i) for i in range(len(siftsmall.base))]
    queries = siftsmall.queries[:100]
    with omendb.open(tmp_path / "db") as db:
        docs = db.collection("sift", dim=siftsmall.base.shape[1])
        docs.add(ids, siftsmall.base)
        before = [[hit.id for hit in docs.search(q, k=10, ef=64)] for q in queries]
        recall_before = _recall_at_10(docs, queries, ef=64)
    with omendb.open(tmp_path / "db") as db:
        docs = db.collection("sift")
        after = [[hit.id for hit in docs.search(q, k=10, ef=64)] for q in queries]
        assert _recall_at_10(docs, queries, ef=64) == recall_before
        assert after == before  # the same graph, loaded rather than rebuilt
        deleted = np.random.default_rng(7).choice(len(ids), size=len(ids) * 3 // 10, replace=False)
        assert docs.delete([ids[i] for i in deleted]) == len(deleted)
    with omendb.open(tmp_path / "db") as db:
        docs = db.collection("sift")
        assert len(docs) == len(ids) - len(deleted)
        gone = {ids[i] for i in deleted}
        for query in queries:
            assert not gone & {hit.id for hit in docs.search(query, k=10, ef=64)}
        recall = _recall_at_10(docs, queries, ef=64)
        print(f"\nsiftsmall recall@10 ef=64: before reopen {recall_before:.4f}, after 30% deleted {recall:.4f}")
        assert recall >= 0.95
