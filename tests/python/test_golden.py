"""Format compatibility: every golden database folder in tests/golden/ (each written by a released
format of OmenDB, see tests/golden/README.md) opens in this code, reads back every record bit for
bit, answers exact searches as the writer did, searches its graph, takes writes, and reopens.

The folders are copied to a temporary directory first: the committed files are never changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import omendb

GOLDEN_ROOT = Path(__file__).resolve().parents[1] / "golden"
CURRENT_MANIFEST_VERSION = 5
GOLDEN_FOLDERS = sorted(p for p in GOLDEN_ROOT.iterdir() if (p / "expected.json").is_file())


def vector_of(hex_bytes: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(hex_bytes), dtype="<f4")


def check_contents(db: omendb.Database, expected: dict) -> None:
    """Every collection, option, record (bit for bit) and exact top-10 as the writer had them."""
    assert db.collections() == sorted(expected["collections"])
    for name, want in expected["collections"].items():
        col = db.collection(name)
        assert (col.dim, col.metric) == (want["dim"], want["metric"])
        assert col.quantization == want.get("quantization", "none")  # format 1 has no codes
        assert len(col) == len(want["records"])
        ids = sorted(want["records"])
        for record_id, record in zip(ids, col.get(ids)):
            assert record is not None, record_id
            stored = want["records"][record_id]
            assert record.vector.astype("<f4").tobytes() == vector_of(stored["vector"]).tobytes()
            assert record.metadata == stored["metadata"], record_id
            more = stored.get("vectors", {})  # further vector fields (format 3 on)
            sparse = stored.get("sparse", {})  # sparse fields (format 5 on)
            assert sorted(record.vectors) == sorted([next(iter(col.vector_fields)), *more, *sparse]), record_id
            for field, weights in sparse.items():
                assert record.vectors[field] == {int(i): w for i, w in weights.items()}, record_id
            for field, hex_bytes in more.items():
                assert record.vectors[field].astype("<f4").tobytes() == vector_of(hex_bytes).tobytes()
            assert record.document == stored.get("document"), record_id  # documents: format 4 on
        assert list(col.vector_fields) == want.get("fields", ["default"])
        for search in want["exact_top10"]:
            hits = col.search(vector_of(search["query"]), k=10, exact=True)
            assert [h.id for h in hits] == search["ids"]
        for search in want.get("text_top10", []):
            hits = col.search(text=search["query"], k=10)
            assert [[h.id, h.score] for h in hits] == search["hits"], search["query"]
        for field, searches in want.get("sparse_top10", {}).items():
            for search in searches:
                query = {int(i): w for i, w in search["query"].items()}
                hits = col.search(query, k=10, using=field)
                assert [[h.id, h.score] for h in hits] == search["hits"], field
        for field, searches in want.get("field_exact_top10", {}).items():
            for search in searches:
                hits = col.search(vector_of(search["query"]), k=10, exact=True, using=field)
                assert [h.id for h in hits] == search["ids"], field


@pytest.fixture(params=GOLDEN_FOLDERS, ids=[p.name for p in GOLDEN_FOLDERS])
def golden(request, tmp_path) -> tuple[Path, dict]:
    """A writable copy of one golden folder, and what it must hold."""
    source: Path = request.param
    shutil.copytree(source / "db", tmp_path / "db")
    return tmp_path / "db", json.loads((source / "expected.json").read_text())


def test_golden_folders_exist():
    assert GOLDEN_FOLDERS, f"no golden folders under {GOLDEN_ROOT}"


def test_opens_read_only_and_reads_everything(golden):
    path, expected = golden
    with omendb.open(str(path), read_only=True) as db:
        check_contents(db, expected)


def test_opens_searches_writes_and_reopens(golden):
    path, expected = golden
    rng = np.random.default_rng(7)
    with omendb.open(str(path)) as db:
        # A writer upgrades the manifest to the current format in place before it logs anything.
        assert (path / "MANIFEST").read_bytes()[8:12] == CURRENT_MANIFEST_VERSION.to_bytes(4, "little")
        check_contents(db, expected)
        col = db.collection("graph_l2")
        want = expected["collections"]["graph_l2"]
        # Graph search (the collection is above the scan threshold) finds each stored vector.
        sample = sorted(want["records"])[::97]
        for record_id in sample:
            hits = col.search(vector_of(want["records"][record_id]["vector"]), k=1)
            assert hits[0].distance == 0.0
        assert col.count(where={"bucket": {"$in": [1, 2]}}) == sum(
            1 for r in want["records"].values() if r["metadata"].get("bucket") in (1, 2)
        )
        # Writes on top of the old files: add, upsert, delete, a new collection.
        new = rng.standard_normal((20, 16)).astype(np.float32)
        col.add(ids=[f"after-{i}" for i in range(20)], vectors=new, metadata=[{"after": i} for i in range(20)])
        replaced = rng.standard_normal((1, 16)).astype(np.float32)
        col.upsert(ids=[sample[0]], vectors=replaced, metadata=[{"replaced": True}])
        col.delete([sample[1]])
        db.collection("added_later", dim=4, metric="ip").add(ids=["x"], vectors=np.ones((1, 4), np.float32))
        if "articles" in expected["collections"]:  # format 4 on: writes to a text collection
            articles = db.collection("articles")
            articles.add(["after-doc"], np.ones((1, 6)), documents=["quiet rivers after"])
            articles.upsert(["articles-7"], np.zeros((1, 6)), documents=["copper lantern"])
        if "products" in expected["collections"]:  # format 3 on: writes to a named collection
            products = db.collection("products")
            products.add(["after-0", "after-1"], vectors={"image": np.ones((2, 10)), "caption": [np.ones(6), None]})
            products.upsert(["products-4"], vectors={"image": np.zeros((1, 10))})  # loses its caption
            written = dict(zip(["after-0", "after-1", "products-4"], products.get(["after-0", "after-1", "products-4"])))
        db.checkpoint()
        col.add(ids=["after-tail"], vectors=new[:1])  # and a log tail for the reopen

    want["records"][sample[0]] = {"vector": replaced[0].tobytes().hex(), "metadata": {"replaced": True}}
    del want["records"][sample[1]]
    for i in range(20):
        want["records"][f"after-{i}"] = {"vector": new[i].tobytes().hex(), "metadata": {"after": i}}
    want["records"]["after-tail"] = {"vector": new[0].tobytes().hex(), "metadata": {}}
    want["exact_top10"] = []  # the new records change the old answers
    expected["collections"]["added_later"] = {
        "dim": 4,
        "metric": "ip",
        "quantization": "sq8",  # created without one: the default
        "records": {"x": {"vector": np.ones(4, "<f4").tobytes().hex(), "metadata": {}}},
        "exact_top10": [],
    }
    if "articles" in expected["collections"]:
        articles = expected["collections"]["articles"]
        articles["exact_top10"], articles["text_top10"] = [], []
        articles["records"]["after-doc"] = {"vector": np.ones(6, "<f4").tobytes().hex(), "metadata": {},
                                            "document": "quiet rivers after"}
        articles["records"]["articles-7"] = {"vector": np.zeros(6, "<f4").tobytes().hex(), "metadata": {},
                                             "document": "copper lantern"}
    if "products" in expected["collections"]:
        products = expected["collections"]["products"]
        products["exact_top10"], products["field_exact_top10"] = [], {}
        for record_id, record in written.items():
            products["records"][record_id] = {
                "vector": record.vector.tobytes().hex(),
                "metadata": {},
                "vectors": {f: v.tobytes().hex() for f, v in record.vectors.items() if f != "image"},
            }
    with omendb.open(str(path)) as db:
        check_contents(db, expected)
