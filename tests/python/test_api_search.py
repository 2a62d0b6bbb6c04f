"""Behaviour of search() and search_batch() on valid input: distances against NumPy for every
metric, exact and graph search, padding, conversions, and use from several threads. Every test
but the GIL one runs on both backends: embedded, and a client of a test server (conftest.py)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import omendb
from conftest import BACKENDS
from data import hits_as_tuples, reference_distances, row_ids
from omendb.datasets import ClusteredSpec, clustered, split_queries

SERVED = True  # tests taking db or open_db run embedded and against a test server (conftest.py)

GRAPH_SIZE = 3000  # above the 2,048 records below which every search is an exact scan
DIM = 32
METRICS = ["l2", "cosine", "ip"]


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray]:
    """(base, queries): clustered vectors shaped like real embeddings."""
    return split_queries(clustered(ClusteredSpec(n=GRAPH_SIZE + 50, dim=DIM, seed=3)), 50)


@pytest.fixture(scope="module", params=[(m, b) for b in BACKENDS for m in METRICS], ids="-".join)
def graph_collection(request, corpus):
    """A collection large enough for graph search, holding corpus base row i as id "r<i>", in an
    embedded database or on this module's test server."""
    base, _ = corpus
    metric, backend = request.param
    opened = omendb.open(":memory:") if backend == "embedded" else request.getfixturevalue("module_server").connect()
    with opened as database:
        collection = database.collection(f"graph-{metric}", dim=DIM, metric=metric)
        collection.add(ids=row_ids(len(base)), vectors=base)
        yield collection



@pytest.mark.parametrize("exact", [True, False], ids=["exact", "graph"])
def test_search_distances_match_numpy(graph_collection, corpus, exact):
    """Hits are sorted, carry the NumPy distance of their id, and (exact) are the true top 10."""
    base, queries = corpus
    truth = reference_distances(base, queries, graph_collection.metric)
    found_true_neighbors = 0
    for query, distances in zip(queries, truth):
        hits = graph_collection.search(query, k=10, exact=exact)
        returned = [hit.distance for hit in hits]
        assert len(hits) == 10 and returned == sorted(returned)
        rows = [int(hit.id[1:]) for hit in hits]
        assert returned == pytest.approx(distances[rows], rel=1e-4, abs=1e-4)
        true_top = np.sort(distances)[:10]
        if exact:
            assert returned == pytest.approx(true_top, rel=1e-4, abs=1e-4)
        found_true_neighbors += int((distances[rows] <= true_top[-1] + 1e-4).sum())
    assert found_true_neighbors / (10 * len(queries)) >= 0.95


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "graph"])
def test_search_batch_matches_search_row_by_row(graph_collection, corpus, exact):
    """search_batch returns (str ids, float32 distances) equal to search() for every row."""
    _, queries = corpus
    ids, distances = graph_collection.search_batch(queries, k=10, ef=40, exact=exact)
    assert ids.shape == distances.shape == (len(queries), 10)
    assert ids.dtype.kind == "U" and distances.dtype == np.float32
    for row, query in enumerate(queries):
        hits = graph_collection.search(query, k=10, ef=40, exact=exact)
        assert list(ids[row]) == [hit.id for hit in hits]
        assert distances[row].tolist() == [hit.distance for hit in hits]


def test_small_collection_graph_search_is_exact(db, rng):
    """Below 2,048 records, a default search returns exactly what exact=True returns."""
    collection = db.collection("small", dim=16)
    collection.add(ids=row_ids(2000), vectors=rng.standard_normal((2000, 16)))
    for query in rng.standard_normal((10, 16)):
        assert hits_as_tuples(collection.search(query, k=20)) == hits_as_tuples(
            collection.search(query, k=20, exact=True)
        )


def test_hit_fields_are_typed(db):
    """A Hit has a str id, a float distance and a dict metadata."""
    collection = db.collection("docs", dim=2)
    collection.add(ids=["a"], vectors=[[3, 4]], metadata=[{"k": "v"}])
    (hit,) = collection.search([0, 0])
    assert (type(hit.id), type(hit.distance), type(hit.metadata)) == (str, float, dict)
    assert (hit.id, hit.distance, hit.metadata) == ("a", 25.0, {"k": "v"})
    assert "Hit(" in repr(hit)


def test_every_argument_form_gives_the_same_hits(graph_collection, corpus):
    """The unconverted fast path (float32 C-contiguous array, int k, None or int ef, bool exact)
    and the converting path (lists, float64, strided views, NumPy ints, truthy exact) agree."""
    _, queries = corpus
    query = np.ascontiguousarray(queries[0], dtype=np.float32)
    expected = hits_as_tuples(graph_collection.search(query, k=5, ef=40))
    strided = np.repeat(query, 2)[::2]
    assert not strided.flags.c_contiguous
    for vector, k, ef in [
        (query, 5, 40),
        (query.tolist(), 5, 40),
        (query.astype(np.float64), 5, 40),
        (strided, 5, 40),
        (query, np.int64(5), np.int32(40)),
    ]:
        assert hits_as_tuples(graph_collection.search(vector, k=k, ef=ef)) == expected
    assert hits_as_tuples(graph_collection.search(query, k=5, exact=1)) == hits_as_tuples(
        graph_collection.search(query, k=5, exact=True)
    )
    with pytest.raises(omendb.InvalidArgumentError, match="k must be an int, got bool"):
        graph_collection.search(query, k=True)
    with pytest.raises(omendb.InvalidArgumentError, match="ef must be at least 1, got 0"):
        graph_collection.search(query, ef=0)
    with pytest.raises(omendb.DimensionError, match="has dimension 31"):
        graph_collection.search(query[:-1])


def test_hit_metadata_is_one_dict_built_on_first_access(db):
    """Hit.metadata is built lazily, then the same dict on every access (so edits stay)."""
    collection = db.collection("docs", dim=2)
    collection.add(ids=["a", "b"], vectors=[[0, 1], [1, 0]], metadata=[{"n": 1, "t": ["x"]}, {}])
    hits = {hit.id: hit for hit in collection.search([0, 1], k=2)}
    assert hits["a"].metadata == {"n": 1, "t": ["x"]} and hits["b"].metadata == {}
    assert hits["a"].metadata is hits["a"].metadata
    hits["a"].metadata["n"] = 2
    assert hits["a"].metadata["n"] == 2
    assert collection.get(["a"])[0].metadata == {"n": 1, "t": ["x"]}  # the stored record is untouched


def test_ef_below_k_still_returns_k_hits(graph_collection, corpus):
    """An ef smaller than k is raised to k: k hits come back."""
    assert len(graph_collection.search(corpus[1][0], k=50, ef=1)) == 50


def test_fewer_records_than_k_returns_all_and_pads_batch(db):
    """With fewer records than k, search returns them all; search_batch pads with "" and inf."""
    collection = db.collection("docs", dim=2)
    collection.add(ids=["a", "b"], vectors=[[0, 0], [1, 1]])
    assert [hit.id for hit in collection.search([0, 0], k=5)] == ["a", "b"]
    ids, distances = collection.search_batch([[0, 0], [1, 1]], k=4)
    assert ids.tolist() == [["a", "b", "", ""], ["b", "a", "", ""]]
    assert distances.tolist() == [[0, 2, np.inf, np.inf], [0, 2, np.inf, np.inf]]


def test_empty_collection_and_empty_batch(db):
    """An empty collection returns no hits; a batch of zero queries returns (0, k) arrays."""
    collection = db.collection("docs", dim=3)
    assert collection.search([1, 2, 3]) == []
    ids, distances = collection.search_batch([[1, 2, 3]], k=2)
    assert ids.tolist() == [["", ""]] and np.isinf(distances).all()
    ids, distances = collection.search_batch(np.empty((0, 3)), k=2)
    assert ids.shape == distances.shape == (0, 2)


def test_search_batch_returns_unicode_ids_intact(db):
    """Ids with accents, CJK and astral-plane characters come back whole from search_batch."""
    ids = ["é", "日本語テキスト", "🙂", "a🚀b", "x"]
    collection = db.collection("docs", dim=1)
    collection.add(ids=ids, vectors=[[i] for i in range(len(ids))])
    found, _ = collection.search_batch([[0]], k=len(ids))
    assert list(found[0]) == ids


def test_search_batch_returns_non_ascii_ids_intact(db):
    """Ids of any width and script come back from search_batch exactly as from search."""
    collection = db.collection("docs", dim=1)
    names = ["a", "ünïcødé-ид", "\U0001F600 emoji", "x" * 300]
    collection.add(ids=names, vectors=[[0], [1], [2], [3]])
    found, _ = collection.search_batch([[0], [1], [2], [3]], k=1)
    assert found[:, 0].tolist() == names
    assert [collection.search([i], k=1)[0].id for i in range(4)] == names


@pytest.mark.parametrize("metric", METRICS)
def test_distance_of_each_metric(db, metric):
    """l2 is squared Euclidean, ip is -dot, cosine is 1 - cos (scale-invariant)."""
    collection = db.collection("docs", dim=3, metric=metric)
    collection.add(ids=["a", "b"], vectors=[[1, 2, 2], [0, 3, 4]])
    query = np.array([2.0, 0.0, 0.0])
    expected = {"l2": {"a": 9.0, "b": 29.0}, "ip": {"a": -2.0, "b": 0.0}, "cosine": {"a": 2 / 3, "b": 1.0}}
    found = {hit.id: hit.distance for hit in collection.search(query, k=2)}
    assert found == pytest.approx(expected[metric], abs=1e-6)


def test_cosine_zero_vectors_are_at_distance_one(db):
    """A stored zero vector is at cosine distance 1 from any query; a zero query is at 1 from all."""
    collection = db.collection("docs", dim=3, metric="cosine")
    collection.add(ids=["zero", "x", "y"], vectors=[[0, 0, 0], [1, 0, 0], [0, 5, 0]])
    assert {hit.id: hit.distance for hit in collection.search([0, 0, 0], k=3)} == {"zero": 1.0, "x": 1.0, "y": 1.0}
    for query in ([1, 0, 0], [-3, 2, 1], [0, 0, 1]):
        distances = {hit.id: hit.distance for hit in collection.search(query, k=3)}
        assert distances["zero"] == 1.0
    _, batch = collection.search_batch([[0, 0, 0], [1, 1, 1]], k=3)
    assert not np.isnan(batch).any()


# --- threads -------------------------------------------------------------------------------------


def test_concurrent_searches_while_adding(open_db, rng):
    """Searches from 3 threads while a 4th adds always return k valid, sorted, correct hits."""
    dim, initial, batches, batch_size = 16, 2100, 30, 100
    vectors = rng.standard_normal((initial + batches * batch_size, dim)).astype(np.float32)
    ids = row_ids(len(vectors))
    row_of = {record_id: row for row, record_id in enumerate(ids)}
    errors: list[BaseException] = []
    searches_during_writes = []
    writing = threading.Event()

    def check(query: np.ndarray, found_ids, found_distances) -> None:
        assert len(found_ids) == 10 and list(found_distances) == sorted(found_distances)
        rows = [row_of[record_id] for record_id in found_ids]  # KeyError on an invalid id
        expected = ((vectors[rows] - query) ** 2).sum(axis=1)
        assert np.allclose(found_distances, expected, rtol=1e-4, atol=1e-4)

    def writer() -> None:
        try:
            for start in range(initial, len(vectors), batch_size):
                collection.add(ids=ids[start : start + batch_size], vectors=vectors[start : start + batch_size])
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            writing.clear()

    def reader(seed: int) -> None:
        local = np.random.default_rng(seed)
        count = 0
        try:
            while writing.is_set():
                query = local.standard_normal(dim).astype(np.float32)
                hits = collection.search(query, k=10)
                check(query, [hit.id for hit in hits], [hit.distance for hit in hits])
                queries = local.standard_normal((4, dim)).astype(np.float32)
                batch_ids, batch_distances = collection.search_batch(queries, k=10)
                for query, found_ids, found_distances in zip(queries, batch_ids, batch_distances):
                    check(query, list(found_ids), found_distances.tolist())
                count += 1
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        searches_during_writes.append(count)

    with open_db() as database:
        collection = database.collection("live", dim=dim, ef_construction=100)
        collection.add(ids=ids[:initial], vectors=vectors[:initial])
        writing.set()
        threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(3)]
        threads.append(threading.Thread(target=writer))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        assert len(collection) == len(vectors)
        assert sum(searches_during_writes) > 0


def test_search_batch_releases_the_gil(rng):  # embedded only: it measures the engine's GIL release
    """While search_batch runs in one thread, another Python thread keeps counting, as during sleep."""
    with omendb.open(":memory:", threads=1) as database:
        collection = database.collection("big", dim=64, ef_construction=32)
        collection.add(ids=row_ids(3000), vectors=rng.standard_normal((3000, 64)))
        queries = rng.standard_normal((4000, 64)).astype(np.float32)

        def counts_per_second(work) -> float:
            """Loop iterations per second of this thread while `work` runs in another thread."""
            window: dict[str, float] = {}

            def timed() -> None:
                window["start"] = time.perf_counter()
                work()
                window["end"] = time.perf_counter()

            thread = threading.Thread(target=timed)
            inside = 0
            thread.start()
            while thread.is_alive():
                if "start" in window and "end" not in window:
                    inside += 1
            thread.join()
            return inside / (window["end"] - window["start"])

        asleep = counts_per_second(lambda: time.sleep(0.3))
        searching = counts_per_second(lambda: collection.search_batch(queries, k=10, exact=True))
        assert searching > 0.25 * asleep, f"{searching:.0f} counts/s during search_batch, {asleep:.0f} asleep"
