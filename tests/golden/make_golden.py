"""Writes a golden database folder with the installed omendb, for format-compatibility tests.

    python tests/golden/make_golden.py OUT_DIR

OUT_DIR gets `db/` (the database folder) and `expected.json` (what every record must read back as,
and the exact top-10 of a few queries). The workload covers what the files can hold: three
collections with each metric and non-default build options (and from format 2 on a fourth, with
sq8 codes; from format 3 on a fifth with two named vector fields, some records lacking the second;
from format 4 on a sixth with documents and a full-text index; from format 5 on a seventh
with a sparse vector field, some records lacking it),
a graph-sized collection (above the
2,048-record scan threshold), deletes by id and by filter, upserts, a dropped collection, every
metadata type, a checkpoint, and then a log tail of adds, upserts and deletes that no checkpoint
covers (the process ends with os._exit, so close() does not checkpoint it).

The expected records are what `get()` returned in this process just before it ended: the state the
database acknowledged. They are checked here against an independent model (ids and metadata
exactly, vectors exactly for l2/ip and to float rounding for cosine, which normalises).
Vectors are stored in expected.json as hex of their float32 little-endian bytes, so the test can
compare them bit for bit.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

import omendb

SEED = 20261202


def metadata_for(i: int, rng: np.random.Generator) -> dict | None:
    """Metadata cycling through every value type the format stores, and records without any."""
    kind = i % 7
    if kind == 0:
        return None
    if kind == 1:
        return {}
    return {
        "n": int(rng.integers(-(2**62), 2**62)),
        "x": float(rng.standard_normal()),
        "flag": bool(i % 2),
        "tag": ["news", "blog", "ünïcødé ✓", ""][i % 4],
        "tags": [f"t{i % 5}", "shared"] if kind != 3 else [],
        "none": None,
        "bucket": i % 10,
    }


def named_rows(rng: np.random.Generator, count: int, lacking_every: int) -> tuple:
    """Rows of the named collection: images, and captions where None marks a record without one."""
    images = rng.standard_normal((count, 10)).astype(np.float32)
    captions = [None if i % lacking_every == 0 else rng.standard_normal(6).astype(np.float32)
                for i in range(count)]
    return images, captions


def write_named(db: omendb.Database, rng: np.random.Generator, model: dict) -> None:
    """The collection "products": image (10-d, l2) in every record, caption (6-d, cosine, sq8)
    in four of five, 2,500 records (graph-sized), then replacing upserts and a delete. The model
    holds (image, metadata, caption or None)."""
    col = db.collection("products", vectors={"image": omendb.VectorField(10),
                                             "caption": omendb.VectorField(6, "cosine", quantization="sq8")})
    images, captions = named_rows(rng, 2500, 5)
    ids = [f"products-{i}" for i in range(2500)]
    for start in range(0, 2500, 700):
        end = min(start + 700, 2500)
        col.add(ids[start:end], vectors={"image": images[start:end], "caption": captions[start:end]},
                metadata=[{"i": i} for i in range(start, end)])
    model["products"] = {ids[i]: (images[i], {"i": i}, captions[i]) for i in range(2500)}
    images, captions = named_rows(rng, 3, 2)  # products-1 loses its caption, products-5 gains one
    replaced = ["products-1", "products-5", "products-10"]
    col.upsert(replaced, vectors={"image": images, "caption": captions})
    for i, record_id in enumerate(replaced):
        model["products"][record_id] = (images[i], {}, captions[i])
    col.delete(["products-2"])
    del model["products"]["products-2"]


def write_named_tail(db: omendb.Database, rng: np.random.Generator, model: dict) -> None:
    """Log-tail writes to "products": adds with and without captions, an upsert, a delete."""
    col = db.collection("products")
    images, captions = named_rows(rng, 30, 3)
    ids = [f"products-tail-{i}" for i in range(30)]
    col.add(ids, vectors={"image": images, "caption": captions})
    for i, record_id in enumerate(ids):
        model["products"][record_id] = (images[i], {}, captions[i])
    images, captions = named_rows(rng, 1, 2)
    col.upsert(["products-3"], vectors={"image": images, "caption": captions})
    model["products"]["products-3"] = (images[0], {}, captions[0])
    col.delete(["products-tail-4"])
    del model["products"]["products-tail-4"]


ARTICLE_WORDS = ["river", "rivers", "running", "stone", "bright", "quiet", "harbour", "lantern",
                 "the", "of", "Ünïcødé", "東京", "snow", "owl", "copper", "meadow", "ran", "runs"]


def article(rng: np.random.Generator) -> str:
    """A document of 0 to 11 words (punctuation and case included)."""
    words = [ARTICLE_WORDS[w] for w in rng.integers(0, len(ARTICLE_WORDS), size=int(rng.integers(0, 12)))]
    return ", ".join(" ".join(words[i:i + 3]).capitalize() for i in range(0, len(words), 3))


def write_articles(db: omendb.Database, rng: np.random.Generator, model: dict) -> None:
    """The collection "articles": 6-d vectors and documents (English stemming and stop words), a
    tenth of the records without one; replacing upserts and a delete before the checkpoint. The
    model holds (vector, metadata, None, document or None)."""
    col = db.collection("articles", dim=6, text=omendb.TextField(stemmer="english", stop_words="english"))
    vectors = rng.standard_normal((1200, 6)).astype(np.float32)
    documents = [None if i % 10 == 0 else article(rng) for i in range(1200)]
    ids = [f"articles-{i}" for i in range(1200)]
    col.add(ids, vectors, documents=documents)
    model["articles"] = {ids[i]: (vectors[i], {}, None, documents[i]) for i in range(1200)}
    replaced = ["articles-0", "articles-1"]  # gains a document; changes it
    new_documents = [article(rng), article(rng)]
    col.upsert(replaced, vectors[:2], documents=new_documents)
    for i, record_id in enumerate(replaced):
        model["articles"][record_id] = (vectors[i], {}, None, new_documents[i])
    col.delete(["articles-5"])
    del model["articles"]["articles-5"]


def write_articles_tail(db: omendb.Database, rng: np.random.Generator, model: dict) -> None:
    """Log-tail writes to "articles": adds, an upsert that drops a document, a delete."""
    col = db.collection("articles")
    vectors = rng.standard_normal((20, 6)).astype(np.float32)
    documents = [article(rng) if i % 4 else None for i in range(20)]
    ids = [f"articles-tail-{i}" for i in range(20)]
    col.add(ids, vectors, documents=documents)
    for i, record_id in enumerate(ids):
        model["articles"][record_id] = (vectors[i], {}, None, documents[i])
    col.upsert(["articles-3"], vectors[:1])
    model["articles"]["articles-3"] = (vectors[0], {}, None, None)
    col.delete(["articles-tail-1"])
    del model["articles"]["articles-tail-1"]


def sparse_vector(rng: np.random.Generator) -> dict:
    """A sparse vector of 1 to 8 entries over 300 indices, weights float32-exact."""
    indices = rng.choice(300, size=int(rng.integers(1, 9)), replace=False)
    return {int(i): float(np.float32(rng.uniform(-1, 3))) for i in indices}


def write_passages(db: omendb.Database, rng: np.random.Generator, model: dict) -> None:
    """The collection "passages": 4-d vectors and a sparse field "terms" in five of six records,
    900 records; an upsert that drops and one that changes a sparse vector, and a delete. The
    model holds (vector, metadata, None, None, sparse vector or None)."""
    col = db.collection("passages", vectors={"dense": omendb.VectorField(4), "terms": omendb.SparseField()})
    vectors = rng.standard_normal((900, 4)).astype(np.float32)
    terms = [None if i % 6 == 0 else sparse_vector(rng) for i in range(900)]
    ids = [f"passages-{i}" for i in range(900)]
    col.add(ids, vectors={"dense": vectors, "terms": terms})
    model["passages"] = {ids[i]: (vectors[i], {}, None, None, terms[i]) for i in range(900)}
    changed = [None, sparse_vector(rng)]
    col.upsert(["passages-1", "passages-2"], vectors={"dense": vectors[:2], "terms": changed})
    for i, record_id in enumerate(["passages-1", "passages-2"]):
        model["passages"][record_id] = (vectors[i], {}, None, None, changed[i])
    col.delete(["passages-3"])
    del model["passages"]["passages-3"]


def write_passages_tail(db: omendb.Database, rng: np.random.Generator, model: dict) -> None:
    """Log-tail writes to "passages": adds with and without sparse vectors, a delete."""
    col = db.collection("passages")
    vectors = rng.standard_normal((12, 4)).astype(np.float32)
    terms = [sparse_vector(rng) if i % 3 else None for i in range(12)]
    ids = [f"passages-tail-{i}" for i in range(12)]
    col.add(ids, vectors={"dense": vectors, "terms": terms})
    for i, record_id in enumerate(ids):
        model["passages"][record_id] = (vectors[i], {}, None, None, terms[i])
    col.delete(["passages-tail-1"])
    del model["passages"]["passages-tail-1"]


def write_workload(db: omendb.Database, rng: np.random.Generator) -> dict:
    """Runs the workload; returns the model: {collection: {id: (vector, metadata)}}."""
    model: dict[str, dict[str, tuple[np.ndarray, dict]]] = {}
    specs = [
        ("graph_l2", dict(dim=16, metric="l2"), 3000),
        ("small_cosine", dict(dim=8, metric="cosine", m=8, ef_construction=64), 300),
        ("custom_ip", dict(dim=5, metric="ip", m=12, ef_construction=100), 500),
    ]
    if hasattr(omendb.Collection, "quantization"):  # format 2 on: a quantized collection too
        specs.append(("coded_l2", dict(dim=12, metric="l2", quantization="sq8"), 2500))
    for name, options, count in specs:
        col = db.collection(name, **options)
        model[name] = {}
        vectors = rng.standard_normal((count, options["dim"])).astype(np.float32)
        if options["metric"] == "cosine":
            vectors[7] = 0.0  # a zero vector stays zero
        ids = [f"{name}-{i}" for i in range(count)]
        metadata = [metadata_for(i, rng) for i in range(count)]
        for start in range(0, count, 700):
            end = min(start + 700, count)
            col.add(ids=ids[start:end], vectors=vectors[start:end], metadata=metadata[start:end])
        for i in range(count):
            model[name][ids[i]] = (vectors[i], metadata[i] or {})

    if hasattr(omendb, "VectorField"):  # format 3 on: named vector fields, some records lacking one
        write_named(db, rng, model)
    if hasattr(omendb, "TextField"):  # format 4 on: documents and a full-text index
        write_articles(db, rng, model)
    if hasattr(omendb, "SparseField"):  # format 5 on: sparse vectors
        write_passages(db, rng, model)

    dropped = db.collection("dropped", dim=3)
    dropped.add(ids=["gone"], vectors=np.ones((1, 3), np.float32))
    db.drop_collection("dropped")

    def upsert(name: str, ids: list[str]) -> None:
        col = db.collection(name)
        vectors = rng.standard_normal((len(ids), col.dim)).astype(np.float32)
        metadata = [{"upserted": True, "round": int(rng.integers(100))} for _ in ids]
        col.upsert(ids=ids, vectors=vectors, metadata=metadata)
        for record_id, vector, meta in zip(ids, vectors, metadata):
            model[name][record_id] = (vector, meta)

    def delete(name: str, ids: list[str]) -> None:
        db.collection(name).delete(ids)
        for record_id in ids:
            model[name].pop(record_id, None)

    def delete_bucket(name: str, bucket: int) -> None:
        db.collection(name).delete(where={"bucket": bucket})
        for record_id in [r for r, (_, m) in model[name].items() if m.get("bucket") == bucket]:
            del model[name][record_id]

    # Before the checkpoint: deletes, upserts (replacing and new), a delete by filter.
    delete("graph_l2", [f"graph_l2-{i}" for i in range(0, 400, 3)])
    upsert("graph_l2", [f"graph_l2-{i}" for i in range(1, 200, 5)] + ["graph_l2-new-0"])
    delete_bucket("custom_ip", 3)
    upsert("small_cosine", ["small_cosine-1", "small_cosine-2", "small_cosine-new"])
    db.checkpoint()

    # The log tail: changes after the last checkpoint, replayed at open.
    col = db.collection("graph_l2")
    tail = rng.standard_normal((50, 16)).astype(np.float32)
    tail_ids = [f"graph_l2-tail-{i}" for i in range(50)]
    col.add(ids=tail_ids, vectors=tail, metadata=[{"tail": i} for i in range(50)])
    for i, record_id in enumerate(tail_ids):
        model["graph_l2"][record_id] = (tail[i], {"tail": i})
    upsert("graph_l2", ["graph_l2-2", "graph_l2-tail-1"])
    delete("graph_l2", ["graph_l2-5", "graph_l2-tail-2", "absent-id"])
    delete_bucket("small_cosine", 4)
    upsert("custom_ip", ["custom_ip-0"])
    if "products" in model:
        write_named_tail(db, rng, model)
    if "articles" in model:
        write_articles_tail(db, rng, model)
    if "passages" in model:
        write_passages_tail(db, rng, model)
    return model


def hex_vector(vector: np.ndarray) -> str:
    return np.asarray(vector, dtype="<f4").tobytes().hex()


def snapshot_expected(db: omendb.Database, model: dict, rng: np.random.Generator) -> dict:
    """What the database returns now, checked against the model."""
    expected: dict = {"collections": {}}
    for name in db.collections():
        col = db.collection(name)
        ids = sorted(model[name])
        records = col.get(ids)
        assert len(col) == len(ids), (name, len(col), len(ids))
        entries = {}
        for record_id, record in zip(ids, records):
            vector, meta = model[name][record_id][:2]
            assert record is not None and record.metadata == meta, record_id
            if col.metric == "cosine":
                norm = np.linalg.norm(vector)
                want = vector / norm if norm > 0 else vector
                assert np.allclose(record.vector, want, atol=1e-6), record_id
            else:
                assert np.array_equal(record.vector, vector), record_id
            entries[record_id] = {"vector": hex_vector(record.vector), "metadata": record.metadata}
            if len(model[name][record_id]) == 5:  # a collection with a sparse field
                terms = model[name][record_id][4]
                assert record.vectors.get("terms") == terms, record_id
                if terms is not None:
                    entries[record_id]["sparse"] = {"terms": {str(i): w for i, w in terms.items()}}
            elif len(model[name][record_id]) == 4:  # a collection with text: the document too
                assert record.document == model[name][record_id][3], record_id
                if record.document is not None:
                    entries[record_id]["document"] = record.document
            elif len(model[name][record_id]) == 3:  # a named collection: its further fields too
                caption = model[name][record_id][2]
                assert ("caption" in record.vectors) == (caption is not None), record_id
                if caption is not None:
                    assert np.allclose(record.vectors["caption"], caption / np.linalg.norm(caption), atol=1e-6)
                    entries[record_id]["vectors"] = {"caption": hex_vector(record.vectors["caption"])}
        queries = rng.standard_normal((5, col.dim)).astype(np.float32)
        searches = [
            {"query": hex_vector(q), "ids": [h.id for h in col.search(q, k=10, exact=True)]}
            for q in queries
        ]
        if len(getattr(col, "vector_fields", {})) > 1:
            fields = list(col.vector_fields)
            expected["collections"][name] = {"fields": fields, "field_exact_top10": {}}
            dense = [f for f in fields[1:] if isinstance(col.vector_fields[f], omendb.VectorField)]
            for field in dense:
                field_queries = rng.standard_normal((5, col.vector_fields[field].dim)).astype(np.float32)
                expected["collections"][name]["field_exact_top10"][field] = [
                    {"query": hex_vector(q), "ids": [h.id for h in col.search(q, k=10, exact=True, using=field)]}
                    for q in field_queries
                ]
        sparse_fields = [f for f, kind in getattr(col, "vector_fields", {}).items()
                         if not isinstance(kind, omendb.VectorField)]
        for field in sparse_fields:
            sparse_queries = [sparse_vector(rng) for _ in range(5)]
            expected["collections"][name].setdefault("sparse_top10", {})[field] = [
                {"query": {str(i): w for i, w in q.items()},
                 "hits": [[h.id, h.score] for h in col.search(q, k=10, using=field)]}
                for q in sparse_queries
            ]
        if getattr(col, "text", None) is not None:
            expected["collections"][name] = {"text_top10": [
                {"query": query, "hits": [[h.id, h.score] for h in col.search(text=query, k=10)]}
                for query in ("river running", "the quiet harbour", "東京 snow", "lantern ünïcødé owl")
            ]}
        expected["collections"].setdefault(name, {}).update({
            "dim": col.dim,
            "metric": col.metric,
            "quantization": getattr(col, "quantization", "none"),
            "records": entries,
            "exact_top10": searches,
        })
    return expected


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=False)
    rng = np.random.default_rng(SEED)
    db = omendb.open(str(out / "db"))
    model = write_workload(db, rng)
    expected = snapshot_expected(db, model, rng)
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no close(): the log tail stays unreplayed in the folder, as after a crash


if __name__ == "__main__":
    main()
