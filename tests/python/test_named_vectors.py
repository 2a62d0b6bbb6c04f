"""Named vector fields: collections whose records hold several vectors, each field with its own
dimension, metric and graph. Embedded only (the HTTP server serves single-field collections)."""

from __future__ import annotations

import numpy as np
import pytest

import omendb
from data import reference_distances, row_ids

K = 10


def products(db, **caption):
    """A collection "products": image (8-d, l2) in every record, caption (5-d, cosine) in some."""
    return db.collection(
        "products",
        vectors={"image": omendb.VectorField(8), "caption": omendb.VectorField(5, "cosine", **caption)},
    )


def exact_ids(base: np.ndarray, query: np.ndarray, metric: str, ids: list[str], k: int) -> list[str]:
    distances = reference_distances(base, query, metric)[0]
    return [ids[i] for i in np.argsort(distances, kind="stable")[:k]]


def test_fields_are_declared_listed_and_checked(db):
    collection = products(db)
    assert list(collection.vector_fields) == ["image", "caption"]
    assert collection.vector_fields["caption"] == omendb.VectorField(5, "cosine")
    assert collection.dim == 8 and collection.metric == "l2"
    assert list(db.collection("plain", dim=3).vector_fields) == ["default"]
    assert db.collection("products") is not None  # reopened by name alone
    with pytest.raises(omendb.InvalidArgumentError, match=r"exists with vector fields 'image' \(8, l2\)"):
        db.collection("products", vectors={"image": omendb.VectorField(8)})
    with pytest.raises(omendb.InvalidArgumentError, match="without dim="):
        db.collection("other", dim=4, vectors={"a": omendb.VectorField(4)})
    with pytest.raises(omendb.InvalidArgumentError, match="non-empty dict"):
        db.collection("other", vectors={})
    with pytest.raises(omendb.InvalidArgumentError, match="must be an omendb.VectorField"):
        db.collection("other", vectors={"a": 4})
    with pytest.raises(omendb.InvalidArgumentError, match="may hold only letters"):
        db.collection("other", vectors={"a b": omendb.VectorField(4)})
    with pytest.raises(omendb.InvalidArgumentError, match="metric must be"):
        db.collection("other", vectors={"a": omendb.VectorField(4, "hamming")})
    assert db.collections() == ["plain", "products"]


def test_records_may_lack_a_further_field_and_searches_return_only_those_that_have_it(db):
    collection = products(db)
    rng = np.random.default_rng(1)
    ids = row_ids(300)
    images = rng.normal(size=(300, 8)).astype(np.float32)
    captions = [rng.normal(size=5).astype(np.float32) if i % 4 else None for i in range(300)]
    collection.add(ids, vectors={"image": images, "caption": captions},
                   metadata=[{"even": i % 2 == 0} for i in range(300)])
    with_caption = [i for i in range(300) if captions[i] is not None]
    caption_matrix = np.array([captions[i] for i in with_caption])
    caption_ids = [ids[i] for i in with_caption]

    record = collection.get(["r1", "r4"])
    np.testing.assert_array_equal(record[0].vectors["image"], images[1])
    np.testing.assert_allclose(record[0].vectors["caption"], captions[1] / np.linalg.norm(captions[1]), rtol=1e-6)
    assert list(record[1].vectors) == ["image"]  # r4 has no caption
    np.testing.assert_array_equal(record[1].vector, images[4])

    for query in rng.normal(size=(20, 5)).astype(np.float32):
        hits = collection.search(query, k=K, using="caption", exact=True)
        assert [hit.id for hit in hits] == exact_ids(caption_matrix, query, "cosine", caption_ids, K)
        found = collection.search(query, k=K, using="caption")
        assert all(int(hit.id[1:]) % 4 for hit in found)
    everything = collection.search(np.ones(5), k=300, using="caption")
    assert sorted(hit.id for hit in everything) == sorted(caption_ids)
    filtered = collection.search(np.ones(5), k=300, using="caption", where={"even": True})
    assert sorted(hit.id for hit in filtered) == sorted(i for i in caption_ids if int(i[1:]) % 2 == 0)
    ids_batch, distances = collection.search_batch(caption_matrix[:3], k=1, using="caption")
    assert ids_batch[:, 0].tolist() == caption_ids[:3]
    assert np.allclose(distances[:, 0], 0, atol=1e-6)
    # The first field is searched by default, with or without using=.
    assert collection.search(images[7], k=1)[0].id == "r7"
    assert collection.search(images[7], k=1, using="image")[0].id == "r7"

    # An upsert that drops the caption takes the record out of caption searches; a delete, out of all.
    collection.upsert(["r1"], vectors={"image": images[1:2]})
    assert "caption" not in collection.get(["r1"])[0].vectors
    assert "r1" not in [hit.id for hit in collection.search(captions[1], k=300, using="caption")]
    collection.delete(["r2"])
    assert "r2" not in [hit.id for hit in collection.search(captions[2], k=300, using="caption")]
    assert len(collection) == 299


def test_bad_input_names_what_is_wrong_and_writes_nothing(db):
    collection = products(db)
    image = np.zeros((1, 8), np.float32)
    cases = [
        ({"caption": np.ones((1, 5))}, omendb.InvalidArgumentError, "must include the field 'image'"),
        ({"image": image, "colour": np.ones((1, 3))}, omendb.InvalidArgumentError, "unknown vector field 'colour'"),
        ({"image": image, "caption": np.ones((1, 4))}, omendb.DimensionError,
         "vector field 'caption' of collection 'products' has dim=5"),
        ({"image": image, "caption": np.ones((2, 5))}, omendb.InvalidArgumentError, "has 2 rows for 1 ids"),
        ({"image": image, "caption": [None, None]}, omendb.InvalidArgumentError, "has 2 entries for 1 ids"),
        ({"image": image, "caption": np.full((1, 5), np.nan)}, omendb.InvalidArgumentError, "non-finite"),
    ]
    for vectors, error, message in cases:
        with pytest.raises(error, match=message):
            collection.add(["x"], vectors=vectors)
    assert len(collection) == 0
    collection.add(["x"], vectors={"image": image, "caption": [None]})
    with pytest.raises(omendb.InvalidArgumentError, match="unknown vector field 'nope'"):
        collection.search(np.ones(5), using="nope")
    with pytest.raises(omendb.DimensionError, match="vector field 'caption' of collection 'products' has dim=5"):
        collection.search(np.ones(8), using="caption")
    with pytest.raises(omendb.InvalidArgumentError, match="using must be a str"):
        collection.search_batch(np.ones((1, 5)), using=1)
    assert collection.search(np.ones(5), using="caption") == []


def test_fields_survive_checkpoints_replay_and_read_only_readers(tmp_path):
    rng = np.random.default_rng(2)
    images = rng.normal(size=(200, 8)).astype(np.float32)
    captions = rng.normal(size=(200, 5)).astype(np.float32)
    with omendb.open(tmp_path / "db") as db:
        collection = products(db, quantization="sq8")
        collection.add(row_ids(100), vectors={"image": images[:100], "caption": captions[:100]})
        db.checkpoint()
        collection.add(row_ids(100, "s"), vectors={"image": images[100:]})  # logged, no captions
        with omendb.open(tmp_path / "db", read_only=True) as reader:
            seen = reader.collection("products")
            assert seen.vector_fields["caption"].quantization == "sq8"
            assert len(seen) == 200
            assert seen.search(captions[5], k=1, using="caption")[0].id == "r5"
            assert len(seen.search(np.ones(5), k=500, using="caption")) == 100
    with omendb.open(tmp_path / "db") as db:
        collection = db.collection("products")
        assert len(collection) == 200
        assert collection.search(images[150], k=1)[0].id == "s50"
        assert collection.search(captions[7], k=1, using="caption")[0].id == "r7"
        assert "caption" not in collection.get(["s3"])[0].vectors


def test_over_http_a_named_collection_cannot_be_created(servers):
    client = servers("memory").empty()
    try:
        with pytest.raises(omendb.NotSupportedError, match="named vector fields"):
            products(client)
        assert list(client.collection("plain", dim=3).vector_fields) == ["default"]
    finally:
        client.close()


def test_each_field_recalls_as_a_single_field_collection_does(siftsmall, minilm):
    """siftsmall (128-d, l2) in one field and MiniLM (384-d, cosine) in another of one collection:
    each field's recall@10 at ef=64 equals that of a collection holding that field alone."""
    count = len(minilm) - 100
    sift_base, sift_queries = siftsmall.base[:count], siftsmall.queries
    text_base, text_queries = minilm[:count], minilm[count:]
    ids = [str(i) for i in range(count)]
    with omendb.open(":memory:") as db:
        both = db.collection("both", vectors={"sift": omendb.VectorField(128), "text": omendb.VectorField(384, "cosine")})
        both.add(ids, vectors={"sift": sift_base, "text": text_base})
        sift_alone = db.collection("sift", dim=128)
        sift_alone.add(ids, sift_base)
        text_alone = db.collection("text", dim=384, metric="cosine")
        text_alone.add(ids, text_base)

        def recall(collection, base, queries, metric, using=None):
            found, _ = collection.search_batch(queries, k=K, ef=64, using=using)
            truth = np.argsort(reference_distances(base, queries, metric), axis=1, kind="stable")[:, :K]
            return np.mean([len(set(map(int, row)) & set(true)) / K for row, true in zip(found, truth)])

        sift_named = recall(both, sift_base, sift_queries, "l2", "sift")
        text_named = recall(both, text_base, text_queries, "cosine", "text")
        sift_single = recall(sift_alone, sift_base, sift_queries, "l2")
        text_single = recall(text_alone, text_base, text_queries, "cosine")
        print(f"\nrecall@10 ef=64: sift {sift_named:.4f} (alone {sift_single:.4f}), "
              f"text {text_named:.4f} (alone {text_single:.4f})")
        # Each field's graph is built as alone; parallel inserts order them differently run to run.
        assert abs(sift_named - sift_single) <= 0.01 and abs(text_named - text_single) <= 0.01
        assert sift_named >= 0.99 and text_named >= 0.97
