"""The server's security: no listening beyond loopback without an API key, keys checked in
constant time, limits on body size, batch size, k and ef, malformed requests refused with a 4xx
(never a 500), no request reaching the file system outside the database folder, and the JSON and
binary decoders fuzzed with hypothesis."""

from __future__ import annotations

import json
import struct

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import omendb
from conftest import RunningServer
from omendb.client import AuthenticationError
from omendb.client._calls import quote_name
from omendb.server import Limits, auth, codec, create_app, serve

KEY = "k" * 24 + "-secret-key"


# --- binding and keys ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.1.2.3", "example.com"])
def test_serve_beyond_loopback_without_a_key_refuses_to_start(tmp_path, host):
    """serve() on a non-loopback host without api_key_file raises before opening anything."""
    with pytest.raises(omendb.InvalidArgumentError, match="refusing to listen on .* without an API key"):
        serve(tmp_path / "db", host=host)
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts_need_no_key(host):
    """Loopback addresses and "localhost" may be served without a key."""
    auth.check_bind(host, ())


@pytest.mark.parametrize(
    "text, message",
    [("", "holds no key"), ("# only a comment\n\n", "holds no key"), ("short\n", "is 5 characters long")],
)
def test_bad_key_files_are_refused(tmp_path, text, message):
    """A key file without a key, or with a short key, stops serve() before it opens anything."""
    (tmp_path / "keys").write_text(text)
    with pytest.raises(omendb.InvalidArgumentError, match=message):
        serve(tmp_path / "db", host="0.0.0.0", api_key_file=tmp_path / "keys")
    assert not (tmp_path / "db").exists()


def test_key_file_lists_several_keys(tmp_path):
    """Keys are read one per line, comments and blanks skipped."""
    (tmp_path / "keys").write_text(f"# ops\n{KEY}\n\n  {KEY}2  \n")
    assert auth.load_api_keys(tmp_path / "keys") == (KEY, KEY + "2")


def test_every_key_is_compared_in_constant_time(monkeypatch):
    """accepts() compares the presented key with every key through hmac.compare_digest."""
    compared = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: compared.append(b) or real(a, b))
    checker = auth.KeyChecker([KEY, KEY + "2", KEY + "3"])
    assert checker.accepts(f"Bearer {KEY}", None)
    assert len(compared) == 3
    assert not checker.accepts("Bearer wrong", None) and not checker.accepts("Basic " + KEY, None)
    assert checker.accepts(None, KEY + "3") and not checker.accepts(None, None)


@pytest.fixture(scope="module")
def keyed():
    """A test server requiring KEY."""
    server = RunningServer(":memory:", api_keys=[KEY])
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/v1/collections", "/v1/info", "/metrics", "/v1/collections/docs"])
@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}, {"x-api-key": KEY[:-1]},
                                     {"authorization": KEY}], ids=["none", "wrong", "prefix", "no-scheme"])
def test_requests_without_the_key_are_refused(keyed, path, headers):
    """Every data endpoint answers 401 without a valid key, naming how to send one."""
    answer = httpx.get(keyed.url + path, headers=headers)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert "API key is required" in answer.json()["error"]["message"]


def test_writes_without_the_key_change_nothing(keyed):
    """An unauthenticated create is refused before it reaches the database."""
    answer = httpx.post(keyed.url + "/v1/collections", json={"name": "sneaky", "dim": 2})
    assert answer.status_code == 401
    assert keyed.database.collections() == []


def test_health_and_api_description_are_public_and_the_key_works(keyed):
    """/health and /openapi.json answer without a key; a client with the key works, one with a
    wrong key raises AuthenticationError on connect."""
    assert httpx.get(keyed.url + "/health").status_code == 200
    assert httpx.get(keyed.url + "/openapi.json").status_code == 200
    assert httpx.get(keyed.url + "/v1/collections", headers={"x-api-key": KEY}).status_code == 200
    with keyed.connect(api_key=KEY) as db:
        db.collection("docs", dim=2).add(["a"], [[1, 2]])
        assert db.collections() == ["docs"]
        db.drop_collection("docs")
    with pytest.raises(AuthenticationError, match="API key"):
        keyed.connect(api_key="wrong-key-of-some-length")
    with pytest.raises(AuthenticationError):
        keyed.connect()


# --- limits and malformed requests ---------------------------------------------------------------

LIMITS = Limits(max_body_bytes=20_000, max_batch=10, max_k=5, max_ef=50, max_results=20)


@pytest.fixture(scope="module")
def limited():
    """A test server with small limits, holding collection "docs" (dim 2, 3 records)."""
    server = RunningServer(":memory:", limits=LIMITS)
    server.database.collection("docs", dim=2).add(["a", "b", "c"], [[0, 0], [1, 1], [2, 2]])
    yield server
    server.stop()


def error_of(answer: httpx.Response) -> tuple[int, str, str]:
    """(status, error type, message) of an error answer."""
    error = answer.json()["error"]
    return answer.status_code, error["type"], error["message"]


@pytest.mark.parametrize(
    "path, body, status, message",
    [
        ("search", {"vector": [0, 0], "k": 6}, 400, "k must be between 1 and 5, got 6"),
        ("search", {"vector": [0, 0], "ef": 51}, 400, "ef must be at most 50, got 51"),
        ("search", {"vector": [0, 0], "exact": "yes"}, 400, "exact must be a bool, got str"),
        ("search", {"vector": [0, 0], "path": "/etc"}, 400, "search takes no field 'path'"),
        ("search_batch", {"vectors": [[0, 0]] * 5, "k": 5}, 400, "would return 25 results"),
        ("search_batch", {"vectors": [[0, 0]] * 11}, 400, "vectors holds 11 entries"),
        ("add", {"ids": [f"n{i}" for i in range(11)], "vectors": [[0, 0]] * 11}, 400, "ids holds 11 entries"),
        ("get", {"ids": ["a"] * 11}, 400, "ids holds 11 entries"),
        ("delete", {"ids": ["a"] * 11}, 400, "ids holds 11 entries"),
    ],
)
def test_limits_are_enforced_before_the_engine(limited, path, body, status, message):
    """k, ef, batch sizes and result counts above the limits are refused with a message naming them."""
    answer = httpx.post(f"{limited.url}/v1/collections/docs/{path}", json=body)
    assert error_of(answer)[0] == status and message in error_of(answer)[2]
    assert len(limited.database.collection("docs")) == 3


def test_large_bodies_are_refused_declared_or_streamed(limited):
    """A body above max_body_bytes answers 413, whether its Content-Length says so or it is streamed."""
    big = b"x" * 30_000
    assert error_of(httpx.post(limited.url + "/v1/collections/docs/add", content=big))[:2] == (
        413, "InvalidArgumentError")

    def chunks():
        for _ in range(30):
            yield b"y" * 1000

    answer = httpx.post(limited.url + "/v1/collections/docs/add", content=chunks())
    assert answer.status_code == 413 and "limit of 20000 bytes" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    "content, content_type, message",
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object, got list"),
        (b"\xff\xfe", "application/json", "not valid UTF-8"),
        (b"[" * 5_000 + b"]" * 5_000, "application/json", "nested too deeply"),
        (b'{"k": ' + b"9" * 5000 + b"}", "application/json", "not valid JSON"),
        (b"{}", "text/plain", "unsupported content type 'text/plain'"),
        (b"OMF1", codec.FRAME_TYPE, "must start with"),
        (b"OMF1" + struct.pack("<I", 999) + b"{}", codec.FRAME_TYPE, "leaves no room"),
        (codec.encode_frame({}, np.zeros((1, 2)))[:-1], codec.FRAME_TYPE, "needs 8 bytes of data, got 7"),
        (codec.encode_frame({}, np.zeros((11, 2))), codec.FRAME_TYPE, "frame holds 11 rows; the limit is 10"),
        (codec.encode_frame({}, np.zeros((2, 2))), codec.FRAME_TYPE, "one query as its matrix, got 2 rows"),
    ],
)
def test_malformed_bodies_are_refused(limited, content, content_type, message):
    """Broken JSON, non-objects, bad encodings, deep nesting, huge numbers, unknown content types
    and malformed frames answer 400 naming the problem."""
    answer = httpx.post(limited.url + "/v1/collections/docs/search", content=content,
                        headers={"content-type": content_type})
    status, error_type, text = error_of(answer)
    assert (status, error_type) == (400, "InvalidArgumentError") and message in text


def test_unknown_routes_and_methods_answer_in_the_error_format(limited):
    """An unknown path is 404 and a wrong method 405, both with an error body."""
    assert error_of(httpx.get(limited.url + "/v2/nothing"))[0] == 404
    assert error_of(httpx.put(limited.url + "/v1/checkpoint"))[0] == 405


# --- the file system -----------------------------------------------------------------------------

TRAVERSALS = ["../evil", "..", "/etc", "a/../../b", "..\\evil", "%2e%2e", "evil\x00", "~root"]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_collection_names_cannot_leave_the_database_folder(tmp_path, name):
    """Collection names that are paths are refused by every endpoint taking one, and nothing is
    created outside the database folder."""
    folder = tmp_path / "inside" / "db"
    with omendb.open(folder) as database, TestClient(create_app(database)) as client:
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        created = client.post("/v1/collections", json={"name": name, "dim": 2})
        assert created.status_code == 400 and created.json()["error"]["type"] == "InvalidArgumentError"
        quoted = quote_name(name)
        refused = (400, 404, 405)  # 405: a decoded "/" makes the path another route's
        assert client.get(f"/v1/collections/{quoted}").status_code in refused
        assert client.delete(f"/v1/collections/{quoted}").status_code in refused
        assert client.post(f"/v1/collections/{quoted}/add", json={"ids": ["a"], "vectors": [[1, 2]]}).status_code \
            in refused
        assert database.collections() == []
        after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    outside = [p for p in after if p not in before and not str(p).startswith("inside")]
    assert outside == []


def test_no_endpoint_takes_a_file_path():
    """No route or request field names a path, file or folder; backup is not served."""
    with omendb.open(":memory:") as database:
        spec = TestClient(create_app(database)).get("/openapi.json").json()
    fields = set()
    for operations in spec["paths"].values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                fields |= set(content["schema"].get("properties", {}))
    assert fields and not fields & {"path", "file", "folder", "directory", "target"}
    assert not any("backup" in path for path in spec["paths"])


# --- fuzzing -------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200))
def test_fuzz_frame_decoder_with_random_bytes(body):
    """Random bytes decode to a frame or raise InvalidArgumentError; nothing else."""
    try:
        header, matrix = codec.decode_frame(codec.MAGIC + body if body[:1] == b"\0" else body, 1000, 1000)
    except omendb.InvalidArgumentError:
        return
    assert isinstance(header, dict) and matrix.dtype == np.float32


@settings(max_examples=300, deadline=None)
@given(header=st.dictionaries(st.text(max_size=5), json_values, max_size=3),
       rows=st.integers(0, 4), cols=st.integers(0, 4), cut=st.integers(0, 64), flip=st.integers(0, 255))
def test_fuzz_frame_decoder_with_mutated_frames(header, rows, cols, cut, flip):
    """Valid frames round-trip; truncated or corrupted ones raise InvalidArgumentError only."""
    matrix = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
    frame = codec.encode_frame(header, matrix)
    decoded_header, decoded = codec.decode_frame(frame, 1000, 1000)
    assert np.array_equal(decoded, matrix) and json.dumps(decoded_header) == json.dumps(header)
    broken = bytearray(frame[: max(len(frame) - cut, 0)])
    if broken:
        broken[flip % len(broken)] ^= 0xFF
    try:
        codec.decode_frame(bytes(broken), 1000, 1000)
    except omendb.InvalidArgumentError:
        pass


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=100) | json_values.map(lambda v: json.dumps(v).encode()))
def test_fuzz_json_decoder(body):
    """Random bytes and random JSON decode to an object or raise InvalidArgumentError; nothing else."""
    try:
        assert isinstance(codec.decode_json(body), dict)
    except omendb.InvalidArgumentError:
        pass


@pytest.fixture(scope="module")
def fuzz_client():
    """An in-process client of a server holding "docs" (dim 2, with metadata)."""
    with omendb.open(":memory:") as database:
        database.collection("docs", dim=2).add(["a", "b"], [[0, 0], [1, 1]], [{"n": 1}, {"t": ["x"]}])
        with TestClient(create_app(database, limits=LIMITS)) as client:
            yield client


ROUTES = ["add", "upsert", "delete", "get", "count", "search", "search_batch", "compact"]
FIELDS = ["ids", "vectors", "vector", "metadata", "where", "k", "ef", "exact", "limit", "name", "dim"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES),
       body=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4) | json_values)
def test_fuzz_endpoints_never_fail_with_a_server_error(fuzz_client, route, body):
    """Random JSON bodies on every collection endpoint answer 2xx or an omendb error with a 4xx
    status: every request is checked before it can fail inside the server."""
    answer = fuzz_client.post(f"/v1/collections/docs/{route}", content=json.dumps(body))
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.json()["error"]["type"] in omendb.server.errors.CLASSES


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4))
def test_fuzz_collection_creation_never_fails_with_a_server_error(fuzz_client, body):
    """Random collection options answer a collection or a 4xx error."""
    answer = fuzz_client.post("/v1/collections", content=json.dumps(body))
    assert answer.status_code < 500, answer.text
