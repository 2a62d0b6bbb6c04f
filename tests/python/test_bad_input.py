"""Bad input raises the specific omendb exception, with a message naming the argument, and changes
nothing: the collection's size and the results of a fixed query are the same afterwards, and on
disk not a byte of the database folder changes (no log record is written). Every case runs on an
in-memory and on an on-disk database, embedded and through a client of a test server (conftest.py);
the on-disk contents are also checked after a reopen. Tests of omendb.open() itself, and of
read-only handles, are embedded only."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import omendb

SERVED = True  # tests taking db or open_db run embedded and against a test server (conftest.py)

DIM = 4
STORED_IDS = ["s0", "s1", "s2", "s3", "s4"]
FIXED_QUERY = [0.5, 0.5, 0.5, 0.5]
GOOD_ROW = [1.0, 2.0, 3.0, 4.0]
Invalid, DimError, Duplicate = omendb.InvalidArgumentError, omendb.DimensionError, omendb.DuplicateIdError


@pytest.fixture(params=["memory", "disk"])
def storage(request) -> str:
    """Where the database lives: "memory" or "disk"."""
    return request.param


@pytest.fixture
def folder(storage, backend, tmp_path, servers) -> Path | None:
    """The database's folder: None in memory; for a server, the folder of the on-disk test server."""
    if storage == "memory":
        return None
    return tmp_path / "db" if backend == "embedded" else servers("disk").path


@pytest.fixture
def db(folder, storage, backend, servers):
    """A fresh database, in memory or on disk, embedded or served; after the test, an on-disk one
    must reopen with exactly the contents it had."""
    if backend == "embedded":
        database = omendb.open(":memory:" if folder is None else folder)
    else:
        database = servers(storage).empty()
    yield database
    if folder is None or database.closed:
        database.close()
        return
    before = {name: contents(database.collection(name)) for name in database.collections()}
    database.close()
    with omendb.open(folder, read_only=True) as reopened:
        assert {name: contents(reopened.collection(name)) for name in reopened.collections()} == before


@pytest.fixture
def collection(db, folder):
    """Five records with metadata in an l2 collection of dim 4."""
    collection = db.collection("docs", dim=DIM)
    collection.add(
        ids=STORED_IDS,
        vectors=np.arange(5 * DIM, dtype=np.float32).reshape(5, DIM),
        metadata=[{"row": i, "tags": ["t"]} for i in range(5)],
    )
    FOLDERS[id(collection)] = folder
    return collection


# The folder of each collection the fixture made (None in memory), for snapshot().
FOLDERS: dict[int, Path | None] = {}


def contents(collection) -> list:
    """Every record of a collection: (id, vector bytes, metadata), by id."""
    records = collection.get(where={"$not": {"__never__": {"$exists": True}}})
    return sorted((r.id, r.vector.tobytes(), sorted(r.metadata.items())) for r in records)


def folder_bytes(folder: Path | None) -> dict:
    """Every file of the database folder and its bytes (the lock file aside)."""
    if folder is None:
        return {}
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "LOCK"}


def snapshot(collection) -> tuple:
    """What must not change: the records, the hits and batch results of a fixed query, and every
    byte of an on-disk database's files."""
    hits = [(hit.id, hit.distance, hit.metadata) for hit in collection.search(FIXED_QUERY, k=10)]
    ids, distances = collection.search_batch([FIXED_QUERY], k=10)
    files = folder_bytes(FOLDERS.get(id(collection)))
    return len(collection), contents(collection), hits, ids.tolist(), distances.tolist(), files


def assert_rejected(collection, error: type, match: str, call) -> None:
    """`call()` raises `error` with a message matching `match`, and leaves `collection` as it was."""
    before = snapshot(collection)
    with pytest.raises(error, match=match):
        call()
    assert snapshot(collection) == before


# --- add -----------------------------------------------------------------------------------------

# Each case is a batch of two records whose second one (or the batch as a whole) is bad.
BAD_ADDS = {
    "vectors of wrong dimension": (dict(vectors=np.ones((2, 3))), DimError, r"vectors.*dimension 3.*dim=4"),
    "1-D vectors": (dict(ids=["n0"], vectors=np.ones(DIM)), DimError, r"vectors must be 2-D"),
    "3-D vectors": (dict(vectors=np.ones((2, 1, DIM))), DimError, r"vectors must be 2-D"),
    "NaN in vectors": (dict(vectors=[GOOD_ROW, [1, math.nan, 0, 0]]), Invalid, r"vectors row 1.*nan.*column 1"),
    "+inf in vectors": (dict(vectors=[GOOD_ROW, [0, 0, 0, math.inf]]), Invalid, r"vectors row 1.*inf"),
    "-inf in vectors": (dict(vectors=[GOOD_ROW, [-math.inf, 0, 0, 0]]), Invalid, r"vectors row 1.*inf"),
    "float64 beyond float32 range": (dict(vectors=[GOOD_ROW, [1e300, 0, 0, 0]]), Invalid, r"vectors row 1"),
    "text vectors": (dict(vectors=[["a"] * DIM] * 2), Invalid, r"vectors must hold numbers"),
    "ragged vectors": (dict(vectors=[GOOD_ROW, [1.0]]), Invalid, r"vectors must be a numeric array"),
    "more ids than vectors": (dict(ids=["n0", "n1", "n2"]), Invalid, r"ids and vectors differ in length: 3 ids, 2"),
    "fewer ids than vectors": (dict(ids=["n0"]), Invalid, r"ids and vectors differ in length: 1 ids, 2"),
    "duplicate id in the batch": (dict(ids=["n0", "n0"]), Duplicate, r"'n0' appears more than once"),
    "id already stored": (dict(ids=["n0", "s3"]), Duplicate, r"'s3' already exists"),
    "empty id": (dict(ids=["n0", ""]), Invalid, r"ids\[1\] is empty"),
    "id of 1025 bytes": (dict(ids=["n0", "x" * 1025]), Invalid, r"ids\[1\] is 1025 bytes long; the limit is 1024"),
    "id of 513 two-byte characters": (dict(ids=["n0", "é" * 513]), Invalid, r"ids\[1\] is 1026 bytes"),
    "int id": (dict(ids=["n0", 7]), Invalid, r"ids\[1\] must be a str, got int"),
    "bytes id": (dict(ids=["n0", b"n1"]), Invalid, r"ids\[1\] must be a str, got bytes"),
    "None id": (dict(ids=["n0", None]), Invalid, r"ids\[1\] must be a str, got NoneType"),
    "lone surrogate in id": (dict(ids=["n0", "\ud800"]), Invalid, r"ids\[1\] is not valid Unicode"),
    "ids as one str": (dict(ids="ab"), Invalid, r"ids must be a list"),
    "ids not iterable": (dict(ids=5), Invalid, r"ids must be a list"),
    "empty batch": (dict(ids=[], vectors=np.empty((0, DIM))), Invalid, r"empty batch"),
}


@pytest.mark.parametrize("kwargs, error, match", BAD_ADDS.values(), ids=BAD_ADDS.keys())
def test_bad_add_raises_and_changes_nothing(collection, kwargs, error, match):
    """A bad add raises the specific error naming the argument and stores none of the batch."""
    arguments = dict(ids=["n0", "n1"], vectors=[GOOD_ROW, GOOD_ROW], metadata=None) | kwargs
    assert_rejected(collection, error, match, lambda: collection.add(**arguments))


UPSERT_ALLOWS = {"id already stored"}  # upsert replaces stored ids; every other bad add is bad


@pytest.mark.parametrize(
    "kwargs, error, match",
    [case for name, case in BAD_ADDS.items() if name not in UPSERT_ALLOWS],
    ids=[name for name in BAD_ADDS if name not in UPSERT_ALLOWS],
)
def test_bad_upsert_raises_and_changes_nothing(collection, kwargs, error, match):
    """upsert refuses what add refuses (but for ids that exist), naming the argument."""
    arguments = dict(ids=["s0", "n1"], vectors=[GOOD_ROW, GOOD_ROW], metadata=None) | kwargs
    assert_rejected(collection, error, match, lambda: collection.upsert(**arguments))


BAD_LOOKUPS = {
    "ids and where": (dict(ids=["s0"], where={"row": 1}), Invalid, r"takes ids or where=, exactly one"),
    "neither ids nor where": (dict(), Invalid, r"takes ids or where=, exactly one"),
    "ids as one str": (dict(ids="s0"), Invalid, r"ids must be a list"),
    "int id": (dict(ids=["s0", 3]), Invalid, r"ids\[1\] must be a str, got int"),
    "unknown operator": (dict(where={"row": {"$near": 1}}), omendb.FilterError, r"\$near"),
    "$in not given a list": (dict(where={"row": {"$in": 1}}), omendb.FilterError, r"\$in"),
    "unterminated string": (dict(where="tags CONTAINS 't"), omendb.FilterError, r"unterminated"),
}


@pytest.mark.parametrize("kwargs, error, match", BAD_LOOKUPS.values(), ids=BAD_LOOKUPS.keys())
@pytest.mark.parametrize("call", ["delete", "get"])
def test_bad_delete_or_get_raises_and_changes_nothing(collection, call, kwargs, error, match):
    """delete() and get() check their arguments before touching anything."""
    assert_rejected(collection, error, match, lambda: getattr(collection, call)(**kwargs))


def test_every_call_on_a_closed_database_raises_closed_error(db, collection):
    """After close(), every call of the database and of its collections raises ClosedError."""
    db.close()
    calls = {
        "collection": lambda: db.collection("docs"),
        "collections": db.collections,
        "drop_collection": lambda: db.drop_collection("docs"),
        "checkpoint": db.checkpoint,
        "refresh": db.refresh,
        "add": lambda: collection.add(["n0"], [GOOD_ROW]),
        "upsert": lambda: collection.upsert(["s0"], [GOOD_ROW]),
        "delete": lambda: collection.delete(["s0"]),
        "get": lambda: collection.get(["s0"]),
        "count": collection.count,
        "search": lambda: collection.search(GOOD_ROW),
        "search_batch": lambda: collection.search_batch([GOOD_ROW]),
        "compact": collection.compact,
    }
    for name, call in calls.items():
        with pytest.raises(omendb.ClosedError):
            call()
        print(name, "raises ClosedError")


def test_every_write_on_a_read_only_database_raises_read_only_error(tmp_path):
    """A read-only handle refuses every write with ReadOnlyError and changes no file."""
    with omendb.open(tmp_path / "db") as db:
        db.collection("docs", dim=DIM).add(STORED_IDS, np.ones((5, DIM)), metadata=[{"row": i} for i in range(5)])
    files = folder_bytes(tmp_path / "db")
    with omendb.open(tmp_path / "db", read_only=True) as db:
        docs = db.collection("docs")
        writes = {
            "add": lambda: docs.add(["n0"], [GOOD_ROW]),
            "upsert": lambda: docs.upsert(["s0"], [GOOD_ROW]),
            "delete by ids": lambda: docs.delete(["s0"]),
            "delete by filter": lambda: docs.delete(where={"row": 1}),
            "compact": docs.compact,
            "create collection": lambda: db.collection("new", dim=2),
            "drop collection": lambda: db.drop_collection("docs"),
            "checkpoint": db.checkpoint,
        }
        for name, write in writes.items():
            with pytest.raises(omendb.ReadOnlyError, match="read-only"):
                write()
        assert len(docs) == 5
    assert folder_bytes(tmp_path / "db") == files


BAD_METADATA_VALUES = {
    "set": ({"a"}, r"\['k'\] has unsupported type set"),
    "dict": ({"nested": 1}, r"\['k'\] has unsupported type dict"),
    "bytes": (b"raw", r"\['k'\] has unsupported type bytes"),
    "list of int": ([1, 2], r"\['k'\]\[0\] must be a str"),
    "list mixing str and int": (["a", 2], r"\['k'\]\[1\] must be a str"),
    "NaN float": (math.nan, r"'k' must be finite"),
    "infinite float": (-math.inf, r"'k' must be finite"),
    "int above int64": (2**63, r"\['k'\] is an int outside the signed 64-bit range"),
    "int below int64": (-(2**63) - 1, r"\['k'\] is an int outside the signed 64-bit range"),
    "NumPy int64": (np.int64(3), r"\['k'\] has unsupported type"),
    "lone surrogate in str": ("\udc80", r"\['k'\]"),
}


@pytest.mark.parametrize("value, match", BAD_METADATA_VALUES.values(), ids=BAD_METADATA_VALUES.keys())
def test_unsupported_metadata_value_raises(collection, value, match):
    """A metadata value of an unsupported type or range raises InvalidArgumentError naming it."""
    metadata = [{"k": 1}, {"k": value}]
    assert_rejected(
        collection,
        omendb.InvalidArgumentError,
        r"metadata\[1\].*" + match,
        lambda: collection.add(ids=["n0", "n1"], vectors=[GOOD_ROW, GOOD_ROW], metadata=metadata),
    )


BAD_METADATA = {
    "too many entries": ([{}, {}, {}], r"metadata must be omitted or hold one entry per id: 2 ids, 3"),
    "too few entries": ([{}], r"metadata must be omitted or hold one entry per id: 2 ids, 1"),
    "no entries": ([], r"metadata must be omitted or hold one entry per id: 2 ids, 0"),
    "str entry": ([{}, "k=v"], r"metadata\[1\] must be a dict, got str"),
    "list entry": ([{}, [("k", "v")]], r"metadata\[1\] must be a dict, got list"),
    "int key": ([{}, {1: "v"}], r"metadata\[1\] has a key of type int"),
    "empty key": ([{}, {"": "v"}], r"metadata\[1\].*keys must be non-empty"),
    "lone surrogate in key": ([{}, {"\ud800": "v"}], r"metadata\[1\]"),
    "a dict, not a list": ({"k": "v"}, r"metadata must be a list, got dict"),
    "a str, not a list": ("k=v", r"metadata must be a list, got str"),
}


@pytest.mark.parametrize("metadata, match", BAD_METADATA.values(), ids=BAD_METADATA.keys())
def test_malformed_metadata_raises(collection, metadata, match):
    """Metadata of the wrong length, with non-dict entries or bad keys raises InvalidArgumentError."""
    assert_rejected(
        collection,
        omendb.InvalidArgumentError,
        match,
        lambda: collection.add(ids=["n0", "n1"], vectors=[GOOD_ROW, GOOD_ROW], metadata=metadata),
    )


def test_id_with_nul_is_rejected(collection):
    """An id holding a NUL character is refused (NumPy str arrays could not return it intact)."""
    assert_rejected(
        collection,
        omendb.InvalidArgumentError,
        r"ids\[1\] contains a NUL character",
        lambda: collection.add(ids=["fine", "a\x00b"], vectors=[GOOD_ROW, GOOD_ROW]),
    )


def test_error_message_keeps_text_after_nul(db):
    """A message quoting a name with a NUL in it is not cut short at the NUL."""
    with pytest.raises(omendb.InvalidArgumentError, match="'nul\x00tail'"):
        db.collection("nul\x00tail", dim=2)


# --- search and search_batch ---------------------------------------------------------------------

BAD_SEARCHES = {
    "query of wrong dimension": (dict(vector=[1, 2, 3]), DimError, r"vector has dimension 3.*dim=4"),
    "2-D query": (dict(vector=[GOOD_ROW]), DimError, r"vector must be 1-D of length 4"),
    "NaN in query": (dict(vector=[0, math.nan, 0, 0]), Invalid, r"vector.*nan"),
    "inf in query": (dict(vector=[0, 0, math.inf, 0]), Invalid, r"vector.*inf"),
    "text query": (dict(vector="abcd"), Invalid, r"vector must hold numbers"),
    "k = 0": (dict(k=0), Invalid, r"k must be at least 1, got 0"),
    "negative k": (dict(k=-3), Invalid, r"k must be at least 1, got -3"),
    "float k": (dict(k=2.0), Invalid, r"k must be an int, got float"),
    "str k": (dict(k="10"), Invalid, r"k must be an int, got str"),
    "bool k": (dict(k=True), Invalid, r"k must be an int, got bool"),
    "k above the maximum": (dict(k=100_001), Invalid, r"k must be between 1 and 100000"),
    "ef = 0": (dict(ef=0), Invalid, r"ef must be at least 1, got 0"),
    "negative ef": (dict(ef=-1), Invalid, r"ef must be at least 1"),
    "float ef": (dict(ef=1.5), Invalid, r"ef must be an int, got float"),
    "ef above the maximum": (dict(ef=100_001), Invalid, r"ef must be at most 100000"),
}


@pytest.mark.parametrize("kwargs, error, match", BAD_SEARCHES.values(), ids=BAD_SEARCHES.keys())
def test_bad_search_raises(collection, kwargs, error, match):
    """A bad search argument raises the specific error naming the argument."""
    arguments = dict(vector=FIXED_QUERY) | kwargs
    assert_rejected(collection, error, match, lambda: collection.search(**arguments))


BAD_BATCHES = {
    "queries of wrong dimension": (dict(vectors=np.ones((2, 5))), DimError, r"vectors have dimension 5"),
    "1-D queries": (dict(vectors=np.ones(DIM)), DimError, r"vectors must be 2-D"),
    "NaN in second query": (dict(vectors=[GOOD_ROW, [0, 0, 0, math.nan]]), Invalid, r"vectors.*row 1.*nan"),
    "-inf in a query": (dict(vectors=[[-math.inf, 0, 0, 0]]), Invalid, r"vectors.*row 0.*inf"),
    "k = 0": (dict(k=0), Invalid, r"k must be at least 1"),
    "float k": (dict(k=1.0), Invalid, r"k must be an int"),
    "ef = 0": (dict(ef=0), Invalid, r"ef must be at least 1"),
}


@pytest.mark.parametrize("kwargs, error, match", BAD_BATCHES.values(), ids=BAD_BATCHES.keys())
def test_bad_search_batch_raises(collection, kwargs, error, match):
    """A bad search_batch argument raises the specific error naming the argument."""
    arguments = dict(vectors=[FIXED_QUERY]) | kwargs
    assert_rejected(collection, error, match, lambda: collection.search_batch(**arguments))


# --- databases and collections -------------------------------------------------------------------

BAD_COLLECTIONS = {
    "unknown metric": (dict(metric="euclidean"), r"metric must be 'l2', 'cosine' or 'ip', got 'euclidean'"),
    "upper-case metric": (dict(metric="L2"), r"metric must be 'l2', 'cosine' or 'ip'"),
    "metric not a str": (dict(metric=3), r"metric must be a str, got int"),
    "dim = 0": (dict(dim=0), r"dim must be at least 1, got 0"),
    "negative dim": (dict(dim=-4), r"dim must be at least 1"),
    "float dim": (dict(dim=4.0), r"dim must be an int, got float"),
    "dim above the maximum": (dict(dim=65_537), r"dim must be between 1 and 65536"),
    "m = 1": (dict(m=1), r"m must be between 2 and 128, got 1"),
    "m above the maximum": (dict(m=129), r"m must be between 2 and 128"),
    "ef_construction = 0": (dict(ef_construction=0), r"ef_construction must be at least 1"),
    "name with a slash": (dict(name="a/b"), r"collection name may hold only"),
    "name '..'": (dict(name=".."), r"collection name must not start with '.'"),
    "hidden name": (dict(name=".hidden"), r"collection name must not start with '.'"),
    "empty name": (dict(name=""), r"collection name must be 1 to 128 bytes, got 0"),
    "name of 200 bytes": (dict(name="x" * 200), r"collection name must be 1 to 128 bytes, got 200"),
    "name with a NUL": (dict(name="nul\x00"), r"collection name may hold only"),
    "name with a space": (dict(name="my docs"), r"collection name may hold only"),
    "non-ASCII name": (dict(name="café"), r"collection name may hold only"),
    "name with a lone surrogate": (dict(name="\ud800"), r"collection name"),
    "name not a str": (dict(name=7), r"collection name must be a str, got int"),
}


@pytest.mark.parametrize("kwargs, match", BAD_COLLECTIONS.values(), ids=BAD_COLLECTIONS.keys())
def test_bad_collection_options_raise(db, collection, kwargs, match):
    """A bad name, metric, dim, m or ef_construction raises InvalidArgumentError and creates nothing."""
    arguments = dict(name="fresh", dim=DIM, metric="l2") | kwargs
    assert_rejected(collection, omendb.InvalidArgumentError, match, lambda: db.collection(**arguments))
    assert db.collections() == ["docs"]


def test_collection_name_of_128_bytes_is_accepted(db):
    """The longest valid collection name (128 bytes) is accepted."""
    assert db.collection("n" * 128, dim=1).name == "n" * 128


def test_id_of_1024_bytes_is_accepted(collection):
    """An id of exactly 1,024 bytes (512 two-byte characters) is accepted."""
    collection.add(ids=["é" * 512], vectors=[GOOD_ROW])
    assert collection.search(GOOD_ROW, k=1)[0].id == "é" * 512


def test_empty_path_raises():
    """An empty path is neither ":memory:" nor a folder."""
    with pytest.raises(omendb.InvalidArgumentError, match="path must not be empty"):
        omendb.open("")


def test_path_that_is_a_file_raises_storage_error(tmp_path):
    """A path naming an existing file (not a folder) raises StorageError naming it."""
    (tmp_path / "file").write_bytes(b"not a database")
    with pytest.raises(omendb.StorageError, match="file"):
        omendb.open(tmp_path / "file")


def test_read_only_needs_an_existing_database(tmp_path):
    """read_only=True never creates a database."""
    with pytest.raises(omendb.NotFoundError, match="no database at"):
        omendb.open(tmp_path / "missing", read_only=True)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("sync", ["FULL", "always", "", 1])
def test_bad_sync_mode_raises(tmp_path, sync):
    """sync must be one of "full", "normal", "off"."""
    with pytest.raises(omendb.InvalidArgumentError, match="sync must be"):
        omendb.open(tmp_path / "db", sync=sync)


@pytest.mark.parametrize("threads, match", [(0, r"at least 1, got 0"), (-2, r"at least 1"), ("4", r"an int, got str")])
def test_bad_thread_count_raises(threads, match):
    """threads must be a positive int."""
    with pytest.raises(omendb.InvalidArgumentError, match=r"threads must be " + match):
        omendb.open(":memory:", threads=threads)


def test_errors_subclass_error_and_value_error():
    """Every omendb exception is an omendb.Error; the argument errors are also ValueErrors."""
    for error in (omendb.InvalidArgumentError, omendb.DimensionError, omendb.DuplicateIdError):
        assert issubclass(error, omendb.Error) and issubclass(error, ValueError)
    assert issubclass(omendb.NotFoundError, KeyError)
    for error in (omendb.NotFoundError, omendb.ClosedError, omendb.NotSupportedError):
        assert issubclass(error, omendb.Error)
