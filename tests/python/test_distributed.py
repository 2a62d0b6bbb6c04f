"""omendb.distributed on a real local Ray cluster (ray.init() with worker processes, started and
stopped by the fixture): answers equal to one embedded database holding the same records, bad
input raising the embedded API's exceptions, replicas, restarts of the whole cluster, bulk load
from Ray Data, and shard actors SIGKILLed during loads and searches (nothing acknowledged lost,
no search silently missing a shard).

OMENDB_RAY_KILLS sets the kills of each kill test (default 4; the closing numbers ran 20).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import omendb

ray = pytest.importorskip("ray")
od = pytest.importorskip("omendb.distributed")
from omendb.distributed._routing import shard_of  # noqa: E402
from omendb.distributed._shards import kill_random_actor  # noqa: E402

DIM = 16
KILLS = int(os.environ.get("OMENDB_RAY_KILLS", "4"))


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=16, include_dashboard=False, log_to_driver=False, namespace="omendb")
    yield
    ray.shutdown()


@pytest.fixture
def db(cluster, tmp_path):
    database = od.connect(root=tmp_path / "root", retry_seconds=60)
    yield database
    database.close()


def records(n: int, seed: int = 0, prefix: str = "r"):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    ids = [f"{prefix}{i}" for i in range(n)]
    metadata = [{"i": i, "even": i % 2 == 0, "tag": ["a", "b", "c"][i % 3]} for i in range(n)]
    return ids, vectors, metadata


def embedded_twin(ids, vectors, metadata):
    database = omendb.open(":memory:")
    collection = database.collection("c", dim=DIM)
    collection.add(ids, vectors, metadata)
    return database, collection


def hits_of(hits):
    return [(hit.id, hit.distance, hit.metadata) for hit in hits]


# --- answers equal to one database


def test_exact_answers_equal_one_database(db):
    ids, vectors, metadata = records(6000)
    col = db.create_collection("c", dim=DIM, shards=4)
    col.add(ids, vectors, metadata)
    twin_db, twin = embedded_twin(ids, vectors, metadata)
    queries = np.random.default_rng(1).standard_normal((20, DIM)).astype(np.float32)
    for query in queries:
        assert hits_of(col.search(query, k=10, exact=True)) == hits_of(twin.search(query, k=10, exact=True))
        assert hits_of(col.search(query, k=5, exact=True, where={"even": True})) == hits_of(
            twin.search(query, k=5, exact=True, where={"even": True}))
    got_ids, got_distances = col.search_batch(queries, k=10, exact=True)
    want_ids, want_distances = twin.search_batch(queries, k=10, exact=True)
    assert (got_ids == want_ids).all() and np.array_equal(got_distances, want_distances)
    assert len(col) == len(twin) == 6000
    assert col.count({"tag": "b"}) == twin.count({"tag": "b"})
    asked = ["r5", "missing", "r5999", "r0"]
    for got, want in zip(col.get(asked), twin.get(asked)):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.id == want.id and np.array_equal(got.vector, want.vector) and got.metadata == want.metadata
    assert sorted(r.id for r in col.get(where={"i": {"$lt": 50}})) == sorted(r.id for r in twin.get(where={"i": {"$lt": 50}}))
    assert len(col.get(where={"even": True}, limit=7)) == 7
    twin_db.close()


def test_graph_search_recall_matches_one_database(db):
    ids, vectors, metadata = records(12000, seed=3)
    col = db.create_collection("c", dim=DIM, shards=3)
    col.add(ids, vectors, metadata)
    twin_db, twin = embedded_twin(ids, vectors, metadata)
    queries = np.random.default_rng(4).standard_normal((200, DIM)).astype(np.float32)
    truth, _ = twin.search_batch(queries, k=10, exact=True)
    found, _ = col.search_batch(queries, k=10, ef=64)
    alone, _ = twin.search_batch(queries, k=10, ef=64)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
    recall_alone = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(alone, truth)])
    assert recall >= recall_alone - 0.005, (recall, recall_alone)
    single = [hit.id for hit in col.search(queries[0], k=10, ef=64)]
    assert single == list(found[0])
    twin_db.close()


def test_writes_reach_the_shard_of_each_id(db):
    ids, vectors, metadata = records(3000)
    col = db.create_collection("c", dim=DIM, shards=4)
    col.add(ids, vectors, metadata)
    twin_db, twin = embedded_twin(ids, vectors, metadata)
    changed = np.full((3, DIM), 0.5, dtype=np.float32)
    for target in (col, twin):
        target.upsert(["r1", "r2", "new"], changed, [{"i": -1}, None, {"i": -3}])
        assert target.delete(["r3", "r4", "absent"]) == 2
        assert target.delete(where={"i": {"$gte": 2990}}) == 10
    assert len(col) == len(twin) == 2989
    for record_id in ("r1", "r2", "new", "r3", "r2995"):
        got, want = col.get([record_id])[0], twin.get([record_id])[0]
        assert (got is None) == (want is None), record_id
        if got is not None:
            assert np.array_equal(got.vector, want.vector) and got.metadata == want.metadata
    twin_db.close()


def test_placement_is_a_stable_function_of_the_id():
    ids = [f"id-{i}" for i in range(20000)]
    counts = np.bincount([shard_of(i, 4) for i in ids], minlength=4)
    assert counts.min() > 0.9 * 5000 and counts.max() < 1.1 * 5000, counts
    # The same in another process with another hash seed (Python's hash() would differ).
    script = "from omendb.distributed._routing import shard_of; print([shard_of(f'id-{i}', 7) for i in range(50)])"
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env=dict(os.environ, PYTHONHASHSEED="12345"))
    assert other.stdout.strip() == str([shard_of(f"id-{i}", 7) for i in range(50)])


# --- bad input: the embedded API's exceptions, and nothing written


def test_bad_input_raises_the_embedded_exceptions_and_changes_nothing(db):
    ids, vectors, metadata = records(400)
    col = db.create_collection("c", dim=DIM, shards=3)
    col.add(ids, vectors, metadata)
    fresh = np.ones((2, DIM), dtype=np.float32)
    with pytest.raises(omendb.DuplicateIdError, match="r7"):
        col.add(["brand-new", "r7"], fresh)
    with pytest.raises(omendb.DuplicateIdError, match="twice"):
        col.add(["x", "x"], fresh)
    with pytest.raises(omendb.DimensionError):
        col.add(["x", "y"], np.ones((2, DIM + 1), dtype=np.float32))
    bad = fresh.copy()
    bad[1, 3] = np.nan
    with pytest.raises(omendb.InvalidArgumentError, match="non-finite"):
        col.add(["x", "y"], bad)
    with pytest.raises(omendb.InvalidArgumentError, match="empty"):
        col.add(["x", ""], fresh)
    with pytest.raises(omendb.InvalidArgumentError, match="unsupported type"):
        col.upsert(["x", "y"], fresh, [{"ok": 1}, {"bad": {"nested": 1}}])
    with pytest.raises(omendb.InvalidArgumentError, match="finite"):
        col.upsert(["x", "y"], fresh, [{"ok": 1}, {"bad": float("inf")}])
    with pytest.raises(omendb.FilterError):
        col.search(vectors[0], where={"i": {"$bogus": 1}})
    with pytest.raises(omendb.FilterError):
        col.delete(where={"i": {"$bogus": 1}})
    with pytest.raises(omendb.DimensionError):
        col.search(np.ones(DIM - 1, dtype=np.float32))
    with pytest.raises(omendb.InvalidArgumentError):
        col.search(vectors[0], k=0)
    with pytest.raises(omendb.InvalidArgumentError):
        col.get(["r1"], where={"i": 1})
    assert len(col) == 400 and col.get(["brand-new", "x", "y"]) == [None, None, None]
    with pytest.raises(omendb.NotFoundError):
        db.collection("nope")
    with pytest.raises(omendb.InvalidArgumentError, match="exists"):
        db.create_collection("c", dim=DIM)
    with pytest.raises(omendb.InvalidArgumentError):
        db.create_collection("d", dim=DIM, shards=0)
    db.close()
    with pytest.raises(omendb.ClosedError):
        col.search(vectors[0])
    with pytest.raises(omendb.ClosedError):
        db.collections()


# --- replicas, restarts, bulk load


def test_replicas_answer_with_every_acknowledged_write(db):
    col = db.create_collection("c", dim=DIM, shards=2, replicas=2)
    total = 0
    for batch in range(5):
        ids, vectors, metadata = records(300, seed=batch, prefix=f"b{batch}-")
        col.add(ids, vectors, metadata)
        total += 300
        for _ in range(3):  # reads go to the primary and each replica in turn
            assert len(col) == total
            assert col.search(vectors[7], k=1)[0].id == ids[7]


def test_a_restarted_cluster_reopens_every_shard(cluster, tmp_path):
    root = tmp_path / "root"
    ids, vectors, metadata = records(2500)
    database = od.connect(root=root)
    col = database.create_collection("c", dim=DIM, metric="cosine", shards=3)
    col.add(ids, vectors, metadata)
    database.close()
    again = od.connect(root=root)
    col = again.collection("c")
    assert (len(col), col.metric, col.shards, again.collections()) == (2500, "cosine", 3, ["c"])
    assert col.get(["r42"])[0].metadata == {"i": 42, "even": True, "tag": "a"}
    again.drop_collection("c")
    assert again.collections() == [] and not (root / "c").exists()
    again.close()


def test_add_dataset_loads_a_ray_dataset_by_id(db):
    import pyarrow as pa

    ids, vectors, metadata = records(5000)
    table = pa.table({
        "id": ids,
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIM),
        "i": [m["i"] for m in metadata],
        "tag": [m["tag"] for m in metadata],
    })
    dataset = ray.data.from_arrow(table).repartition(8)
    col = db.create_collection("c", dim=DIM, shards=4)
    written = col.add_dataset(dataset, id_column="id", vector_column="embedding", metadata_columns=["i", "tag"],
                              batch_size=700, progress=False)
    assert written == 5000 and len(col) == 5000
    record = col.get(["r77"])[0]
    assert np.array_equal(record.vector, vectors[77]) and record.metadata == {"i": 77, "tag": "c"}
    with pytest.raises(omendb.DuplicateIdError):
        col.add_dataset(dataset, id_column="id", vector_column="embedding", progress=False)
    again = col.add_dataset(dataset, id_column="id", vector_column="embedding", metadata_columns=["i", "tag"],
                            upsert=True, progress=False)
    assert again == 5000 and len(col) == 5000
    with pytest.raises(omendb.InvalidArgumentError, match="no column"):
        col.add_dataset(dataset, id_column="nope", vector_column="embedding")


# --- shard actors killed mid-load and mid-search


def kill_a_shard(col, rng) -> None:
    """SIGKILLs the process of a random primary or replica of ``col``."""
    kill_random_actor(col._shards, rng)


def test_shards_killed_during_a_load_lose_nothing_acknowledged(db):
    col = db.create_collection("c", dim=DIM, shards=3)
    acknowledged: list = []
    failures: list = []

    def load() -> None:
        try:
            for batch in range(60):
                ids, vectors, metadata = records(100, seed=batch, prefix=f"b{batch}-")
                col.add(ids, vectors, metadata)
                acknowledged.append(batch)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    writer = threading.Thread(target=load)
    writer.start()
    rng = np.random.default_rng(7)
    for _ in range(KILLS):
        time.sleep(0.5 + rng.random())
        if not writer.is_alive():
            break
        kill_a_shard(col, rng)
    writer.join(timeout=600)
    assert not failures, failures
    assert len(acknowledged) == 60
    assert len(col) == 6000
    for batch in (0, 29, 59):
        ids, vectors, _ = records(100, seed=batch, prefix=f"b{batch}-")
        assert all(r is not None and np.array_equal(r.vector, v) for r, v in zip(col.get(ids), vectors))


def test_shards_killed_during_searches_never_drop_a_shard(db):
    ids, vectors, metadata = records(3000)
    col = db.create_collection("c", dim=DIM, shards=3, replicas=1)
    col.add(ids, vectors, metadata)
    twin_db, twin = embedded_twin(ids, vectors, metadata)
    queries = np.random.default_rng(2).standard_normal((40, DIM)).astype(np.float32)
    expected = [hits_of(twin.search(q, k=10, exact=True)) for q in queries]
    wrong: list = []
    stop = threading.Event()

    def search() -> None:
        while not stop.is_set():
            for query, want in zip(queries, expected):
                try:
                    got = hits_of(col.search(query, k=10, exact=True))
                except od.ShardUnavailableError as error:  # a clear error is allowed, never a short answer
                    got = error
                if got != want:
                    wrong.append(got)

    reader = threading.Thread(target=search)
    reader.start()
    rng = np.random.default_rng(8)
    for _ in range(KILLS):
        time.sleep(0.5 + rng.random())
        kill_a_shard(col, rng)
    time.sleep(1)
    stop.set()
    reader.join(timeout=600)
    assert not [w for w in wrong if not isinstance(w, od.ShardUnavailableError)], wrong[:3]
    assert len(col) == 3000
    twin_db.close()
