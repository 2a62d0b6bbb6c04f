"""Full-text and hybrid search through the Python API: documents, BM25 search with filters, the
forms of search() and search_batch(), fusion (RRF against a plain-Python reference), persistence
and bad input. BM25 scores themselves are checked against bm25s in test_bm25_reference.py."""

from __future__ import annotations

import numpy as np
import pytest

import omendb
from omendb._hybrid import ENGLISH_STOP_WORDS


def rrf_reference(rankings: list[list[str]], k: int, constant: float = 60.0) -> list[tuple[str, float]]:
    """Reciprocal rank fusion in plain Python: sum of 1 / (constant + rank), rank from 1; best
    first, ties by id."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, record_id in enumerate(ranking, start=1):
            scores[record_id] = scores.get(record_id, 0.0) + 1.0 / (constant + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]


@pytest.fixture
def library(db):
    """300 records: "near*" sit at the origin but their documents are unrelated; "wordy*" say
    "quantum entanglement" but lie far away; fillers are neither. Even ones {"even": true}."""
    rng = np.random.default_rng(5)
    collection = db.collection("library", dim=8, text=True)
    ids, vectors, documents = [], [], []
    words = ["apple", "river", "stone", "music", "paper", "cloud", "garden", "window"]
    for i in range(300):
        kind = "near" if i < 5 else "wordy" if i < 10 else "filler"
        ids.append(f"{kind}{i}")
        vectors.append(rng.normal(scale=0.01 if kind == "near" else 1.0, size=8) + (0 if kind == "near" else 5))
        documents.append("Quantum entanglement, explained." if kind == "wordy" else
                         " ".join(rng.choice(words, size=6)))
    collection.add(ids, np.array(vectors, np.float32), [{"even": i % 2 == 0} for i in range(300)], documents)
    return collection


def test_text_search_returns_bm25_hits_with_documents(library):
    hits = library.search(text="quantum entanglement", k=3)
    assert [h.id[:5] for h in hits] == ["wordy"] * 3
    assert all(h.score > 0 and h.distance == -h.score for h in hits)
    assert hits[0].document == "Quantum entanglement, explained."
    assert library.get(["wordy5"])[0].document == "Quantum entanglement, explained."
    even = library.search(text="quantum", k=10, where={"even": True})
    assert sorted(h.id for h in even) == ["wordy6", "wordy8"]
    assert library.search(text="no such words", k=5) == []
    assert library.tokenize("Quantum, ENTANGLEMENT!") == ["quantum", "entanglement"]
    # A vector search of a collection with text returns documents too.
    assert library.search(np.zeros(8), k=1)[0].document is not None


def test_fusion_finds_what_each_signal_alone_misses_and_rrf_matches_the_reference(library):
    origin = np.zeros(8, np.float32)
    by_vector = [h.id for h in library.search(origin, k=64)]
    by_text = [h.id for h in library.search(text="quantum entanglement", k=64)]
    assert all(i.startswith("near") for i in by_vector[:5]) and not any(i.startswith("wordy") for i in by_vector[:5])
    assert all(i.startswith("wordy") for i in by_text)  # only they match
    fused = library.search(origin, text="quantum entanglement", k=10)
    assert sorted(h.id[:4] for h in fused) == ["near"] * 5 + ["word"] * 5
    expected = rrf_reference([by_vector, by_text], 10)
    assert [(h.id, h.score) for h in fused] == [(i, pytest.approx(s, rel=1e-6)) for i, s in expected]
    custom = library.search(origin, text="quantum entanglement", k=10, fusion=omendb.RRF(k=10))
    assert [(h.id, h.score) for h in custom] == [(i, pytest.approx(s, rel=1e-6))
                                                 for i, s in rrf_reference([by_vector, by_text], 10, 10.0)]
    # Weighted: the text signal alone decides when the vector weighs nothing.
    text_only = library.search(origin, text="quantum entanglement", k=5,
                               fusion=omendb.Weighted(vector=0.0, text=1.0))
    assert all(h.id.startswith("wordy") for h in text_only)
    vector_only = library.search(origin, text="quantum entanglement", k=5, fusion=omendb.Weighted(text=0.0))
    assert all(h.id.startswith("near") for h in vector_only)
    # The filter applies to every signal.
    filtered = library.search(origin, text="quantum", k=10, where={"even": True})
    assert all(int(h.id.lstrip("nearwodyfil")) % 2 == 0 for h in filtered)


def test_several_named_vectors_and_text_fuse(db):
    collection = db.collection("products", vectors={"image": omendb.VectorField(4), "caption": omendb.VectorField(3)},
                               text=omendb.TextField(stemmer="english"))
    images = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0]]
    captions = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    collection.add(["a", "b", "c", "d", "e"], {"image": images, "caption": captions},
                   documents=["red shoes", "blue running shoes", "green hat", None, "running"])
    hits = collection.search(vectors={"image": images[1], "caption": captions[1]}, text="runs", k=5)
    by_image = [h.id for h in collection.search(images[1], k=64, using="image")]
    by_caption = [h.id for h in collection.search(captions[1], k=64, using="caption")]
    by_text = [h.id for h in collection.search(text="runs", k=64)]
    expected = rrf_reference([by_image, by_caption, by_text], 5)
    assert [(h.id, h.score) for h in hits] == [(i, pytest.approx(s, rel=1e-6)) for i, s in expected]
    assert hits[0].id == "b"  # first in all three
    weighted = collection.search(vectors={"image": images[2], "caption": captions[2]}, text="runs", k=1,
                                 fusion=omendb.Weighted(image=1.0, caption=0.0, text=0.0))
    assert weighted[0].id == "c"
    ids, distances = collection.search_batch({"image": images[:2], "caption": captions[:2]}, text=["red", "runs"], k=2)
    assert ids.shape == (2, 2) and ids[1, 0] == "b" and distances[1, 0] < 0
    text_ids, text_distances = collection.search_batch(text=["hat", "shoes"], k=2)
    assert text_ids[0, 0] == "c" and text_ids[0, 1] == "" and np.isinf(text_distances[0, 1])
    assert set(text_ids[1]) == {"a", "b"}


def test_text_survives_checkpoints_replay_upserts_and_deletes(tmp_path):
    rng = np.random.default_rng(3)
    with omendb.open(tmp_path / "db") as db:
        collection = db.collection("notes", dim=4, text=omendb.TextField(stop_words="english"))
        collection.add(["a", "b", "c"], rng.normal(size=(3, 4)), documents=["the cat sat", "a dog ran", None])
        db.checkpoint()
        collection.upsert(["a"], rng.normal(size=(1, 4)), documents=["the bird sang"])
        collection.add(["d"], rng.normal(size=(1, 4)), documents=["cat and dog"])
        collection.delete(["b"])
        with omendb.open(tmp_path / "db", read_only=True) as reader:
            seen = reader.collection("notes")
            assert [h.id for h in seen.search(text="cat", k=5)] == ["d"]
    with omendb.open(tmp_path / "db") as db:
        collection = db.collection("notes")
        assert collection.text == omendb.TextField(stop_words=ENGLISH_STOP_WORDS)
        assert [h.id for h in collection.search(text="cat", k=5)] == ["d"]
        assert [h.id for h in collection.search(text="bird", k=5)] == ["a"]
        assert collection.search(text="the", k=5) == []  # a stop word only
        assert collection.get(["c"])[0].document is None


def test_bad_input_is_refused_and_writes_nothing(db, library):
    plain = db.collection("plain", dim=2)
    cases = [
        (lambda: plain.add(["x"], np.ones((1, 2)), documents=["text"]), "has no text index"),
        (lambda: plain.search(text="x"), "has no text index"),
        (lambda: library.add(["x"], np.ones((1, 8)), documents=[3]), r"documents\[0\] must be a str or None"),
        (lambda: library.add(["x", "y"], np.ones((2, 8)), documents=["one"]), "one entry per id"),
        (lambda: library.add(["x"], np.ones((1, 8)), documents=["\ud800"]), "documents"),
        (lambda: library.search(text=""), "the text query is empty"),
        (lambda: library.search(text="  \n"), "the text query is empty"),
        (lambda: library.search(text=b"bytes"), "text must be a str"),
        (lambda: library.search(), "needs a vector, vectors= or text="),
        (lambda: library.search(np.zeros(8), vectors={"default": np.zeros(8)}), "not both"),
        (lambda: library.search(text="x", fusion="rrf"), "takes no using= or fusion="),
        (lambda: library.search(np.zeros(8), text="x", fusion="max"), "fusion must be"),
        (lambda: library.search(np.zeros(8), text="x", fusion=omendb.RRF(k=0)), "RRF k must be"),
        (lambda: library.search(np.zeros(8), text="x", fusion=omendb.Weighted(colour=1)), "not a signal"),
        (lambda: library.search(np.zeros(8), text="x", fusion=omendb.Weighted(text=float("nan"))), "finite"),
        (lambda: library.search_batch(np.zeros((2, 8)), text=["x"]), "differ in number"),
        (lambda: db.collection("t", dim=2, text=omendb.TextField(stemmer="klingon")), "klingon"),
        (lambda: db.collection("t", dim=2, text=omendb.TextField(b=2)), r"b must be in \[0, 1\]"),
        (lambda: db.collection("t", dim=2, text="yes"), "text must be True or an omendb.TextField"),
        (lambda: db.collection("plain", text=True), "exists without text"),
    ]
    for call, message in cases:
        with pytest.raises(omendb.InvalidArgumentError, match=message):
            call()
    assert len(library) == 300 and len(plain) == 0 and "t" not in db.collections()


def test_stop_words_match_the_engine_list():
    with omendb.open(":memory:") as db:
        collection = db.collection("c", dim=1, text=omendb.TextField(stop_words="english"))
        assert collection.tokenize(" ".join(ENGLISH_STOP_WORDS) + " kept") == ["kept"]


def test_text_and_hybrid_search_over_http_match_the_embedded_answers(servers, library):
    """A served collection with text: documents in, BM25, hybrid and batch searches out, equal to
    the same calls on an embedded collection holding the same records."""
    client = servers("memory").empty()
    try:
        remote = client.collection("library", dim=8, text=omendb.TextField(stop_words="english"))
        assert remote.text == omendb.TextField(stop_words=ENGLISH_STOP_WORDS)
        ids = [f"r{i}" for i in range(300)]
        records = library.get([h.id for h in library.search(np.zeros(8), k=300, exact=True)])
        ids = [r.id for r in records]
        vectors = np.stack([r.vector for r in records])
        documents = [r.document for r in records]
        remote.add(ids, vectors, [{"even": int(i.lstrip("nearwodyfil")) % 2 == 0} for i in ids], documents)
        with omendb.open(":memory:") as db:
            local = db.collection("library", dim=8, text=omendb.TextField(stop_words="english"))
            local.add(ids, vectors, [{"even": int(i.lstrip("nearwodyfil")) % 2 == 0} for i in ids], documents)
            origin = np.zeros(8, np.float32)
            for call in (lambda c: c.search(text="quantum entanglement", k=5),
                         lambda c: c.search(text="quantum", k=5, where={"even": True}),
                         lambda c: c.search(origin, text="quantum entanglement", k=8),
                         lambda c: c.search(origin, text="quantum", k=8, fusion=omendb.Weighted(vector=0.2, text=0.8))):
                assert [(h.id, h.score, h.document) for h in call(remote)] == \
                       [(h.id, pytest.approx(h.score), h.document) for h in call(local)]
            for call in (lambda c: c.search_batch(text=["quantum", "apple river"], k=4),
                         lambda c: c.search_batch(np.zeros((2, 8)), text=["quantum", "apple"], k=4)):
                remote_ids, remote_distances = call(remote)
                local_ids, local_distances = call(local)
                assert remote_ids.tolist() == local_ids.tolist()
                np.testing.assert_allclose(remote_distances, local_distances, rtol=1e-6)
        assert remote.get(["wordy5"])[0].document == "Quantum entanglement, explained."
        with pytest.raises(omendb.NotSupportedError, match="tokenize"):
            remote.tokenize("x")
    finally:
        client.close()


def test_the_async_client_searches_text(servers):
    import asyncio

    async def run() -> list:
        async with omendb.connect(servers("memory").url, asynchronous=True) as client:
            collection = await client.collection("notes", dim=2, text=True)
            await collection.add(["a", "b"], np.eye(2), documents=["red fox", "blue whale"])
            hits = await collection.search(text="whale", k=2)
            ids, _ = await collection.search_batch(text=["fox", "whale"], k=1)
            fused = await collection.search(np.array([1.0, 0.0]), text="whale", k=2)
            return [hits[0].id, hits[0].document, ids.tolist(), sorted(h.id for h in fused)]

    servers("memory").empty().close()
    assert asyncio.run(run()) == ["b", "blue whale", [["a"], ["b"]], ["a", "b"]]
