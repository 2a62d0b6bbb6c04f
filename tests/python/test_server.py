"""The server and its clients beyond the shared API suite: the JSON and binary forms of each
endpoint, errors crossing the wire with their class, metrics, health, the OpenAPI page, the async
client, retries, and a long search not blocking other requests."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import numpy as np
import pytest

import omendb
from conftest import RunningServer
from data import row_ids
from omendb.client import Hit, Record, TransportError
from omendb.client._calls import Call
from omendb.client._transport import raise_for
from omendb.server import codec
from omendb.server.errors import CLASSES, payload, status_of


@pytest.fixture
def server(servers) -> RunningServer:
    """The in-memory test server, emptied."""
    servers("memory").empty().close()
    return servers("memory")


@pytest.fixture
def http(server):
    """A raw httpx client of the test server."""
    with httpx.Client(base_url=server.url) as client:
        yield client


def test_json_endpoints_do_what_the_client_does(server, http):
    """Every endpoint answers plain JSON requests: create, add, upsert, get, count, search,
    search_batch (padding as null), delete, compact, checkpoint, drop."""
    assert http.post("/v1/collections", json={"name": "docs", "dim": 2, "metric": "l2"}).json() == {
        "name": "docs", "dim": 2, "metric": "l2", "quantization": "sq8", "m": 16, "ef_construction": 100,
        "text": None, "size": 0}
    base = "/v1/collections/docs/"
    assert http.post(base + "add", json={"ids": ["a", "b"], "vectors": [[0, 0], [1, 1]],
                                         "metadata": [{"n": 1}, None]}).status_code == 200
    assert http.post(base + "upsert", json={"ids": ["b"], "vectors": [[2, 2]]}).status_code == 200
    assert http.post(base + "count", json={"where": "n = 1"}).json() == {"count": 1}
    found = http.post(base + "search", json={"vector": [0, 0], "k": 5}).json()
    assert found == {"ids": ["a", "b"], "distances": [0.0, 8.0], "metadata": [{"n": 1}, {}], "scores": [0.0, -8.0],
                     "documents": [None, None]}
    batch = http.post(base + "search_batch", json={"vectors": [[2, 2]], "k": 3}).json()
    assert batch == {"ids": [["b", "a", ""]], "distances": [[0.0, 8.0, None]]}
    got = http.post(base + "get", json={"ids": ["b", "zz"]}).json()
    assert got == {"records": [{"id": "b", "vector": [2.0, 2.0], "metadata": {}, "document": None}, None]}
    assert http.post(base + "delete", json={"ids": ["a"]}).json() == {"deleted": 1}
    assert http.post(base + "compact").json() == {"reclaimed": 2}  # the deleted and the upserted slots
    assert http.post("/v1/checkpoint").status_code == 200
    assert http.get("/v1/collections").json() == {"collections": ["docs"]}
    assert http.get("/v1/collections/docs").json()["size"] == 1
    assert http.delete("/v1/collections/docs").status_code == 200
    assert http.get("/v1/collections/docs").status_code == 404


def test_frame_round_trips_and_client_uses_it(server, http, rng):
    """A frame carries float32 exactly; add and search_batch through frames agree with JSON."""
    matrix = rng.standard_normal((7, 5)).astype(np.float32)
    header, decoded = codec.decode_frame(codec.encode_frame({"x": ["é", None]}, matrix), 10, 10)
    assert header == {"x": ["é", None]} and np.array_equal(decoded, matrix)
    db = server.connect()
    collection = db.collection("docs", dim=5)
    collection.add(row_ids(7), matrix)
    body = codec.encode_frame({"k": 2}, matrix)
    answer = http.post("/v1/collections/docs/search_batch", content=body,
                       headers={"content-type": codec.FRAME_TYPE, "accept": codec.FRAME_TYPE})
    header, distances = codec.decode_frame(answer.content, 100, 100)
    assert [row[0] for row in header["ids"]] == row_ids(7) and np.all(distances[:, 0] == 0)


def test_client_returns_its_own_hit_and_record(server):
    """Hits and records are omendb.client.Hit / Record with the engine classes' fields and repr."""
    collection = server.connect().collection("docs", dim=2)
    collection.add(["a"], [[3, 4]], [{"k": "v"}])
    hit, record = collection.search([0, 0])[0], collection.get(["a"])[0]
    assert isinstance(hit, Hit) and isinstance(record, Record)
    assert repr(hit) == "Hit(id='a', distance=25.0, metadata={'k': 'v'})"
    assert repr(record) == "Record(id='a', metadata={'k': 'v'})"
    assert record.vector.dtype == np.float32 and record.vector.flags.writeable


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_error_class_crosses_the_wire(name):
    """An error answer for each omendb exception class raises that class with its message."""
    cls = CLASSES[name]
    call = Call("GET", "/x", lambda body, _: None)
    with pytest.raises(cls, match="^what went wrong$") as raised:
        raise_for(call, status_of(cls("m")), codec.encode_json(payload(name, "what went wrong")))
    assert type(raised.value) is cls


def test_engine_errors_keep_their_class_and_message(server):
    """Errors raised by the server's engine reach the client as the same class, same message."""
    db = server.connect()
    collection = db.collection("docs", dim=2)
    collection.add(["a"], [[1, 2]])
    with pytest.raises(omendb.DuplicateIdError, match="'a' already exists"):
        collection.add(["a"], [[1, 2]])
    with pytest.raises(omendb.FilterError, match="position"):
        collection.count("n >= ")
    with pytest.raises(omendb.NotFoundError, match="no collection named 'ghost'"):
        db.collection("ghost")
    with pytest.raises(omendb.NotSupportedError, match="backup"):
        db.backup("/tmp/anywhere")


def test_unreachable_server_raises_transport_error():
    """A server that does not answer raises TransportError (after the retries)."""
    with pytest.raises(TransportError, match="ConnectError"):
        omendb.connect("http://127.0.0.1:9", retries=1)


def test_idempotent_calls_are_retried_after_503(server, monkeypatch):
    """A 503 answer is retried for a search, not for an add."""
    db = server.connect(retries=2)
    collection = db.collection("docs", dim=2)
    collection.add(["a"], [[1, 2]])
    transport = db._engine.transport
    real = transport._client.request
    failures = {"left": 2}

    def flaky(method, path, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            return httpx.Response(503, content=b"busy")
        return real(method, path, **kwargs)

    monkeypatch.setattr(transport._client, "request", flaky)
    assert collection.search([1, 2])[0].id == "a"
    failures["left"] = 1
    with pytest.raises(TransportError, match="503"):
        collection.add(["b"], [[1, 2]])
    assert len(collection) == 1


def test_health_metrics_and_openapi(server, http):
    """/health answers; /metrics counts requests by route, has latency histograms and collection
    sizes; /docs and /openapi.json describe every endpoint and none takes a file path."""
    collection = server.connect().collection("docs", dim=2)
    collection.add(["a", "b"], [[1, 2], [3, 4]])
    collection.search([1, 2])
    assert http.get("/health").json()["status"] == "ok"
    text = http.get("/metrics").text
    assert 'omendb_requests_total{method="POST",route="/v1/collections/{name}/search",status="200"}' in text
    search = 'method="POST",route="/v1/collections/{name}/search"'
    assert f'omendb_request_duration_seconds_bucket{{{search},le="+Inf"}}' in text
    assert 'omendb_collection_records{collection="docs"} 2' in text
    assert "swagger" in http.get("/docs").text.lower()
    spec = http.get("/openapi.json").json()
    assert {"/v1/collections/{name}/search", "/v1/collections/{name}/search_batch", "/v1/checkpoint",
            "/health", "/metrics"} <= set(spec["paths"])
    text = str(spec).lower()
    assert "backup" not in text and "'path'" not in text.replace("'in': 'path'", "")


def test_a_long_search_does_not_block_other_requests(server, rng):
    """While exact batch searches run, /health answers within a fraction of their time."""
    collection = server.connect().collection("big", dim=64)
    collection.add(row_ids(20000), rng.standard_normal((20000, 64)))
    queries = rng.standard_normal((2000, 64)).astype(np.float32)
    started = time.perf_counter()
    collection.search_batch(queries, k=10, exact=True)
    alone = time.perf_counter() - started
    worker = threading.Thread(target=lambda: collection.search_batch(queries, k=10, exact=True))
    worker.start()
    time.sleep(alone / 4)
    with httpx.Client(base_url=server.url) as http:
        asked = time.perf_counter()
        assert http.get("/health").status_code == 200
        answered = time.perf_counter() - asked
    still_searching = worker.is_alive()
    worker.join()
    assert still_searching, "the search ended before /health was asked; make it longer"
    assert answered < alone / 2, f"/health took {answered:.3f}s during a {alone:.3f}s search"


def test_async_client_has_the_same_api(server, rng):
    """The async client creates, adds, searches, gets, counts, deletes, with the same checks and
    exceptions as the embedded API."""

    async def scenario():
        async with omendb.connect(server.url, asynchronous=True) as db:
            collection = await db.collection("docs", dim=3, metric="cosine")
            await collection.add(["a", "b", "c"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [{"n": 1}, {"n": 2}, None])
            hits = await collection.search([1, 0, 0], k=2)
            assert [hit.id for hit in hits] == ["a", "b"]
            ids, distances = await collection.search_batch([[0, 1, 0], [0, 0, 1]], k=1)
            assert ids.tolist() == [["b"], ["c"]] and distances.dtype == np.float32
            assert await collection.count("n >= 1") == 2
            assert (await collection.get(["c", "zz"]))[1] is None
            await collection.upsert(["a"], [[0, 1, 1]])
            assert await collection.delete(where={"n": 2}) == 1
            assert await db.collections() == ["docs"]
            with pytest.raises(omendb.DimensionError, match="vector has dimension 2"):
                await collection.search([1, 0])
            with pytest.raises(omendb.InvalidArgumentError, match="k must be an int, got bool"):
                await collection.search([1, 0, 0], k=True)
            with pytest.raises(omendb.InvalidArgumentError, match="exists with metric='cosine'"):
                await db.collection("docs", dim=3, metric="l2")
            await db.drop_collection("docs")
            with pytest.raises(omendb.ClosedError, match="'docs' is closed"):
                await collection.count()
        with pytest.raises(omendb.ClosedError):
            await db.collections()

    asyncio.run(scenario())


def test_async_searches_run_concurrently(server, rng):
    """Many searches gathered on one event loop all complete, each with the right answer."""
    vectors = rng.standard_normal((500, 8)).astype(np.float32)
    server.connect().collection("docs", dim=8).add(row_ids(500), vectors)

    async def scenario():
        async with omendb.connect(server.url, asynchronous=True) as db:
            collection = await db.collection("docs")
            hits = await asyncio.gather(*(collection.search(vectors[i], k=1) for i in range(50)))
        return [found[0].id for found in hits]

    assert asyncio.run(scenario()) == row_ids(50)
