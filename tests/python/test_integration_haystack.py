"""omendb.integrations.haystack: Haystack's standard document store suite, and what it leaves out:
filters checked against Haystack's own matcher, documents without embeddings, the embedding
retriever (top_k, filters, scores, serialisation), pipelines, persistence on disk, bad input.
Skipped as a whole when haystack-ai is missing."""

from __future__ import annotations

import datetime
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import List

import numpy as np
import pytest

pytest.importorskip("haystack")

import omendb  # noqa: E402
from haystack import Document, Pipeline, component  # noqa: E402
from haystack.dataclasses import ByteStream, SparseEmbedding  # noqa: E402
from haystack.document_stores.errors import DuplicateDocumentError  # noqa: E402
from haystack.document_stores.types import DuplicatePolicy, FilterPolicy  # noqa: E402
from haystack.errors import FilterError  # noqa: E402
from haystack.testing.document_store import DocumentStoreBaseTests  # noqa: E402
from haystack.utils.filters import document_matches_filter  # noqa: E402
from omendb.integrations import haystack as integration  # noqa: E402
from omendb.integrations.haystack import OmenDBDocumentStore, OmenDBEmbeddingRetriever  # noqa: E402

_MISSING = object()  # a meta key left out


class TestDocumentStore(DocumentStoreBaseTests):
    """Haystack's standard tests (count, delete, filter, write), each on an empty in-memory store."""

    @pytest.fixture
    def document_store(self):
        with OmenDBDocumentStore() as store:
            yield store

    def test_write_documents(self, document_store):
        """The default policy (NONE) fails on an existing id, as FAIL does."""
        doc = Document(content="test doc")
        assert document_store.write_documents([doc]) == 1
        with pytest.raises(DuplicateDocumentError):
            document_store.write_documents([doc])
        self.assert_documents_are_equal(document_store.filter_documents(), [doc])


@pytest.fixture
def store():
    with OmenDBDocumentStore() as document_store:
        yield document_store


def _embedded(seed: int, n: int, dim: int = 8) -> list[Document]:
    rng = np.random.default_rng(seed)
    return [Document(content=f"doc {i}", embedding=rng.standard_normal(dim).tolist(), meta={"i": i}) for i in range(n)]


def _ids(documents: list[Document]) -> list[str]:
    return [document.id for document in documents]


# Filters against Haystack's matcher (haystack.utils.filters, which InMemoryDocumentStore uses).


def _reference_documents() -> list[Document]:
    """60 documents whose meta values cover the kinds Haystack's filters tell apart; the even ones
    have embeddings."""
    nums = [1, 1.0, True, False, 0, 2, -3.5, 2**62, None, math.nan, math.inf, -(2**70), 2**70, _MISSING]
    tags = ["1", "abc", "", "2021-01-01", "2021-01-01T00:00:00", "2021-01-01T01:00:00+01:00", None, ["a"]]
    tags += [["a", "b"], [], {"x": 1}, 1, True, _MISSING]
    dates = ["1969-07-21T20:17:40", "1972-12-11", "1989-11-09T17:53:00", None, _MISSING]
    nested = [{"a": 1}, {"a": 2.5}, {"a": True}, {}, {"b": {"a": 1}}, _MISSING]
    rng = np.random.default_rng(3)
    documents = []
    for i in range(60):
        values = {"num": nums[i % 14], "tag": tags[i % 13], "date": dates[i % 5], "n": nested[i % 6]}
        meta = {key: value for key, value in values.items() if value is not _MISSING}
        embedding = rng.standard_normal(4).tolist() if i % 2 == 0 else None
        documents.append(Document(content=f"doc {i}", meta=meta, embedding=embedding))
    return documents


def _reference_filters() -> list[dict]:
    values = [1, 1.0, True, False, 0, 2, -3.5, "1", "abc", "", "2021-01-01", "2021-01-01T00:00:00+00:00", None]
    values += [["a"], ["a", "b"], [], {"x": 1}, 2**70, math.inf, math.nan]
    fields = ["meta.num", "meta.tag", "meta.date", "meta.n.a", "num", "content", "id", "meta.absent"]
    filters = []
    for field in fields:
        for value in values:
            filters += [{"field": field, "operator": op, "value": value} for op in ("==", "!=")]
            filters += [{"field": field, "operator": "in", "value": [value, 2]}]
            filters += [{"field": field, "operator": "not in", "value": [value]}]
    for field in ("meta.num", "meta.n.a", "num"):
        for value in (0, 1, 1.5, True, -1e9, 2**62, 2**70, -math.inf, None):
            filters += [{"field": field, "operator": op, "value": value} for op in (">", ">=", "<", "<=")]
    for value in ("1970-01-01", "1972-12-11T00:00:00", "1989-11-09T17:53:00.5", None):
        filters += [{"field": "meta.date", "operator": op, "value": value} for op in (">", ">=", "<", "<=")]
    num_is_one = {"field": "meta.num", "operator": "==", "value": 1}
    tag_is_abc = {"field": "meta.tag", "operator": "==", "value": "abc"}
    after_1970 = {"field": "meta.date", "operator": ">", "value": "1970-01-01"}
    filters += [
        {"operator": "AND", "conditions": [num_is_one, {"field": "meta.tag", "operator": "!=", "value": "abc"}]},
        {"operator": "OR", "conditions": [after_1970, {"field": "meta.n.a", "operator": "==", "value": 1}]},
        {"operator": "NOT", "conditions": [{"field": "meta.num", "operator": "in", "value": [0, 2]}, tag_is_abc]},
        {"operator": "OR", "conditions": [tag_is_abc, {"operator": "NOT", "conditions": [after_1970]}]},
        {"operator": "NOT", "conditions": [{"operator": "OR", "conditions": [num_is_one, tag_is_abc]}]},
        {"operator": "AND", "conditions": []},
        {"operator": "OR", "conditions": []},
        {"operator": "NOT", "conditions": []},
    ]
    return filters


def test_filters_match_haystack_reference(store):
    """Every filter selects what Haystack's own matcher selects, in write order, in
    filter_documents() and in embedding retrieval (among documents with embeddings)."""
    documents = _reference_documents()
    store.write_documents(documents)
    query = [1.0, 0.0, 0.0, 0.0]
    for filters in _reference_filters():
        expected = [document for document in documents if document_matches_filter(filters, document)]
        assert _ids(store.filter_documents(filters)) == _ids(expected), filters
        retrieved = store.embedding_retrieval(query, filters=filters, top_k=len(documents))
        assert set(_ids(retrieved)) == {document.id for document in expected if document.embedding}, filters


@pytest.mark.parametrize(
    "filters",
    [
        {"field": "meta.number", "operator": "==", "value": 2},
        {"field": "meta.flag", "operator": "==", "value": True},
        {"field": "meta.name", "operator": "in", "value": ["a", "c"]},
        {"field": "meta.name", "operator": "!=", "value": "a"},
        {"field": "meta.number", "operator": "not in", "value": [1, 2]},
        {"field": "meta.number", "operator": ">", "value": 1.5},
        {"field": "meta.number", "operator": "<=", "value": True},
        {
            "operator": "NOT",
            "conditions": [
                {"field": "meta.name", "operator": "==", "value": "a"},
                {"operator": "OR", "conditions": [{"field": "number", "operator": ">=", "value": 2}]},
            ],
        },
    ],
)
def test_plain_filters_need_no_python(store, monkeypatch, filters):
    """Comparisons of bools, strs and numbers under AND, OR and NOT are answered by OmenDB alone."""
    documents = [
        Document(content=f"d{i}", meta={"name": "abc"[i % 3], "number": i % 4, "flag": i % 2 == 0}, embedding=[i, 1.0])
        for i in range(12)
    ] + [Document(content="no meta"), Document(content="none", meta={"number": None, "name": None})]
    store.write_documents(documents)
    expected = [document for document in documents if document_matches_filter(filters, document)]

    def fail(*args):
        raise AssertionError("Haystack's matcher ran")

    monkeypatch.setattr(integration, "document_matches_filter", fail)
    assert store.filter_documents(filters) == expected
    retrieved = store.embedding_retrieval([1.0, 0.0], filters=filters, top_k=20)
    assert set(_ids(retrieved)) == {document.id for document in expected if document.embedding}


def test_retrieval_widens_the_search_for_filters_checked_in_python(store):
    """Filters on content (evaluated in Python) still return the top_k nearest matching documents."""
    documents = _embedded(seed=1, n=300)
    store.write_documents(documents)
    query = documents[0].embedding
    wanted = {f"doc {i}" for i in range(0, 300, 37)}
    filters = {"field": "content", "operator": "in", "value": sorted(wanted)}
    retrieved = store.embedding_retrieval(query, filters=filters, top_k=5)
    matching = [document for document in documents if document.content in wanted]
    similarity = [_cosine(query, document.embedding) for document in matching]
    best = [matching[i].id for i in np.argsort(similarity)[::-1][:5]]
    assert _ids(retrieved) == best


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"conditions": []}, "'operator' key missing"),
        ({"operator": "AND"}, "'conditions' key missing"),
        ({"operator": "XOR", "conditions": []}, "unknown logical operator 'XOR'"),
        ({"operator": "AND", "conditions": {"field": "x"}}, "'conditions' takes a list"),
        ({"field": "meta.x", "operator": "~", "value": 1}, "unknown comparison operator '~'"),
        ({"field": "meta.x", "operator": "in", "value": "ab"}, "'in' takes a list, got str"),
        ({"field": "meta.x", "operator": ">", "value": "yesterday"}, "'yesterday' is not one"),
        ({"field": "meta.x", "operator": "<", "value": {"a": 1}}, "'<' takes a number, an ISO 8601 date or None"),
        ({"field": 3, "operator": "==", "value": 1}, "'field' takes a str"),
        (["not", "a", "dict"], "a filter must be a dict"),
    ],
)
def test_malformed_filters_say_what_is_wrong(store, filters, message):
    """Malformed filters raise FilterError, even on an empty store, naming the problem."""
    for call in (store.filter_documents, lambda f: store.embedding_retrieval([1.0], filters=f)):
        with pytest.raises(FilterError, match=message.replace("(", r"\(")):
            call(filters)


# Writing and reading documents.


def test_documents_round_trip_exactly(store):
    """Content, blob, sparse embedding, float64 embedding and every JSON meta value come back."""
    documents = [
        Document(
            content="héllo\n\u2603",
            blob=ByteStream(b"\x00\xffbytes", mime_type="application/octet-stream", meta={"page": 2}),
            sparse_embedding=SparseEmbedding(indices=[3, 9], values=[0.25, -1.5]),
            embedding=[0.1, 1 / 3, -2.0, 1e-300],
            meta={"nested": {"a": [1, {"b": None}]}, "numbers": [1, 2.5], "strings": ["x"], "empty": []},
        ),
        Document(meta={"big": 2**80, "none": None, "int": -(2**63), "float": 0.1, "bool": False, "s": ""}),
    ]
    store.write_documents(documents)
    assert store.filter_documents() == documents


def test_documents_without_embeddings_wait_in_their_own_collection(store):
    """Until the first embedding fixes the dimension, documents go to '<collection>.no-embeddings';
    the first embedding moves them into the collection, and retrieval never returns them."""
    bare = [Document(content=f"bare {i}") for i in range(3)]
    store.write_documents(bare)
    assert store._db.collections() == ["haystack.no-embeddings"]
    assert store.embedding_retrieval([1.0, 0.0]) == []
    embedded = _embedded(seed=2, n=4, dim=2)
    store.write_documents(embedded[:2])
    store.write_documents([Document(content="bare 3")])
    store.write_documents(embedded[2:])
    assert store._db.collections() == ["haystack"]
    assert _ids(store.filter_documents()) == _ids(bare + embedded[:2] + [Document(content="bare 3")] + embedded[2:])
    assert set(_ids(store.embedding_retrieval([1.0, 0.0], top_k=100))) == set(_ids(embedded))
    store.write_documents([Document(id=embedded[0].id, content="lost its embedding")], DuplicatePolicy.OVERWRITE)
    assert set(_ids(store.embedding_retrieval([1.0, 0.0], top_k=100))) == set(_ids(embedded[1:]))


def test_duplicate_policies(store):
    """SKIP keeps what is stored and the first of repeated ids, OVERWRITE the last, FAIL raises
    and writes nothing."""
    first, second, third = Document(id="a", content="1"), Document(id="a", content="2"), Document(id="b", content="3")
    assert store.write_documents([first, second], DuplicatePolicy.SKIP) == 1
    assert store.filter_documents() == [first]
    assert store.write_documents([second, third], DuplicatePolicy.SKIP) == 1
    with pytest.raises(DuplicateDocumentError, match="ID 'a' already exists"):
        store.write_documents([Document(id="c"), first], DuplicatePolicy.FAIL)
    with pytest.raises(DuplicateDocumentError, match="ID 'd' appears twice"):
        store.write_documents([Document(id="d"), Document(id="d")])
    assert store.count_documents() == 2
    assert store.write_documents([first, second], DuplicatePolicy.OVERWRITE) == 2
    assert store.filter_documents() == [third, second]


@pytest.mark.parametrize(
    "documents, message",
    [
        ([Document(embedding=[1.0, 2.0]), Document(embedding=[1.0])], r"embeddings differ in length: \[1, 2\]"),
        ([Document(embedding=[1.0, 2.0, 3.0])], "the embeddings have 3 dimensions; collection 'haystack' holds 2"),
        ([Document(meta={"when": datetime.date(2024, 1, 1)})], "holds a value JSON cannot store"),
        ([Document(meta={1: "x"})], "meta keys must be str"),
        ([Document(embedding=[])], "empty embedding"),
        ((Document(),), "takes a list of Documents, got tuple"),
    ],
)
def test_bad_documents_raise_and_write_nothing(store, documents, message):
    store.write_documents([Document(content="first", embedding=[0.5, 0.5])])
    with pytest.raises(ValueError, match=message):
        store.write_documents(documents)
    assert store.count_documents() == 1


def test_records_written_by_others_are_refused(tmp_path):
    with omendb.open(tmp_path / "db") as db:
        db.collection("haystack", dim=2, metric="cosine").add(
            ["raw"], [[1.0, 0.0]], [{"title": "not a Haystack document"}]
        )
    with OmenDBDocumentStore(path=tmp_path / "db") as store:
        with pytest.raises(ValueError, match="record 'raw' has no '_doc' field: OmenDBDocumentStore did not write it"):
            store.filter_documents()


def test_concurrent_writes(store):
    """Threads writing at once, across the first embedding's move, lose no document."""
    batches = [
        [Document(content=f"{t}-{i}", embedding=[1.0, t] if i % 2 else None) for i in range(25)] for t in range(8)
    ]
    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(store.write_documents, batches)) == 200
    assert store.count_documents() == 200
    assert len(store.embedding_retrieval([1.0, 0.0], top_k=200)) == 96


def test_delete_documents(store):
    documents = _embedded(seed=3, n=5, dim=3) + [Document(content="bare")]
    store.write_documents(documents)
    store.delete_documents([documents[0].id, documents[-1].id, "missing"])
    store.delete_documents([])
    assert store.filter_documents() == documents[1:-1]
    assert documents[0].id not in _ids(store.embedding_retrieval(documents[0].embedding, top_k=10))


# The retriever and its scores.


def _cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize(
    "metric, score, scaled",
    [
        ("cosine", _cosine, lambda s: (s + 1) / 2),
        ("ip", lambda a, b: float(np.dot(a, b)), lambda s: 1 / (1 + math.exp(-s / 100))),
        ("l2", lambda a, b: -float(np.sum((np.subtract(a, b)) ** 2)), lambda s: 1 / (1 - s)),
    ],
)
def test_retriever_returns_top_k_with_scores(metric, score, scaled):
    """Documents come best first, top_k of them, scored as the metric says (and scaled to [0, 1])."""
    documents = _embedded(seed=4, n=50)
    query = np.random.default_rng(5).standard_normal(8).tolist()
    with OmenDBDocumentStore(metric=metric) as store:
        store.write_documents(documents)
        retriever = OmenDBEmbeddingRetriever(store, top_k=3)
        expected = sorted(documents, key=lambda document: -score(query, document.embedding))
        for top_k, scale_score in ((None, False), (7, False), (5, True)):
            found = retriever.run(query_embedding=query, top_k=top_k, scale_score=scale_score)["documents"]
            assert _ids(found) == _ids(expected[: top_k or 3])
            for document in found:
                raw = score(query, next(d.embedding for d in documents if d.id == document.id))
                assert document.score == pytest.approx(scaled(raw) if scale_score else raw, rel=1e-5, abs=1e-5)
                assert document.embedding is None
        with_embeddings = retriever.run(query_embedding=query, return_embedding=True)["documents"]
        assert [document.embedding for document in with_embeddings] == [d.embedding for d in expected[:3]]


def test_retriever_filters_and_policy(store):
    documents = _embedded(seed=6, n=20)
    store.write_documents(documents)
    query = documents[0].embedding
    odd = {"field": "meta.i", "operator": "in", "value": list(range(1, 20, 2))}
    small = {"field": "content", "operator": "in", "value": [f"doc {i}" for i in range(6)]}  # MERGE: another field
    replace = OmenDBEmbeddingRetriever(store, filters=odd, top_k=20)
    merge = OmenDBEmbeddingRetriever(store, filters=odd, top_k=20, filter_policy="merge")
    assert {d.meta["i"] for d in replace.run(query_embedding=query)["documents"]} == set(range(1, 20, 2))
    assert {d.meta["i"] for d in replace.run(query_embedding=query, filters=small)["documents"]} == set(range(6))
    assert {d.meta["i"] for d in merge.run(query_embedding=query, filters=small)["documents"]} == {1, 3, 5}


def test_retriever_checks_its_arguments(store):
    with pytest.raises(TypeError, match="must be an OmenDBDocumentStore, got dict"):
        OmenDBEmbeddingRetriever({})
    with pytest.raises(ValueError, match="top_k must be at least 1, got 0"):
        OmenDBEmbeddingRetriever(store, top_k=0)
    with pytest.raises(ValueError, match="metric must be one of"):
        OmenDBDocumentStore(metric="dot_product")
    store.write_documents(_embedded(seed=7, n=3))
    with pytest.raises(omendb.DimensionError, match="vector has dimension 2"):
        store.embedding_retrieval([1.0, 2.0])


def test_store_and_retriever_serialise(tmp_path):
    path = str(tmp_path / "db")
    with OmenDBDocumentStore(path=path, collection="docs", metric="ip") as store:
        assert store.to_dict() == {
            "type": "omendb.integrations.haystack.OmenDBDocumentStore",
            "init_parameters": {"path": path, "collection": "docs", "metric": "ip"},
        }
        retriever = OmenDBEmbeddingRetriever(store, filters={"field": "meta.i", "operator": "==", "value": 1}, top_k=4)
        data = retriever.to_dict()
        assert data == {
            "type": "omendb.integrations.haystack.OmenDBEmbeddingRetriever",
            "init_parameters": {
                "document_store": store.to_dict(),
                "filters": {"field": "meta.i", "operator": "==", "value": 1},
                "top_k": 4,
                "scale_score": False,
                "return_embedding": False,
                "filter_policy": "replace",
            },
        }
    restored = OmenDBEmbeddingRetriever.from_dict(data)
    with restored.document_store as reopened:
        assert (reopened.path, reopened.collection, reopened.metric) == (path, "docs", "ip")
        assert (restored.top_k, restored.filters) == (4, retriever.filters)
        assert restored.filter_policy == FilterPolicy.REPLACE


# Pipelines and persistence.


@component
class _HashEmbedder:
    """A deterministic fake text embedder: the counts of each letter a-h in the text."""

    @component.output_types(embedding=List[float])
    def run(self, text: str):
        return {"embedding": [float(text.count(letter)) + 0.01 for letter in "abcdefgh"]}


def test_pipeline_embeds_then_retrieves(tmp_path, monkeypatch):
    """A query pipeline (fake embedder -> retriever) runs, and runs again after a dump and a load
    (which Haystack 3 allows for listed modules only)."""
    monkeypatch.setenv("HAYSTACK_DESERIALIZATION_ALLOWLIST", f"omendb,{_HashEmbedder.__module__}")
    path = str(tmp_path / "db")
    texts = ["aaa bbb", "hhh ggg", "abc abc abc", "defgh"]
    documents = [Document(content=text, embedding=_HashEmbedder().run(text)["embedding"]) for text in texts]
    with OmenDBDocumentStore(path=path) as store:
        store.write_documents(documents + [Document(content="no embedding, never retrieved")])
        pipeline = Pipeline()
        pipeline.add_component("embedder", _HashEmbedder())
        pipeline.add_component("retriever", OmenDBEmbeddingRetriever(store, top_k=2))
        pipeline.connect("embedder.embedding", "retriever.query_embedding")
        result = pipeline.run({"embedder": {"text": "aaaa b"}})
        assert [document.content for document in result["retriever"]["documents"]] == ["aaa bbb", "abc abc abc"]
        saved = pipeline.dumps()
    loaded = Pipeline.loads(saved)
    try:
        assert loaded.run({"embedder": {"text": "hg"}})["retriever"]["documents"][0].content == "hhh ggg"
    finally:
        loaded.get_component("retriever").document_store.close()


def test_documents_persist_in_a_folder(tmp_path):
    path = tmp_path / "db"
    documents = _embedded(seed=8, n=30) + [Document(content="bare", meta={"tag": "x"})]
    with OmenDBDocumentStore(path=path) as store:
        store.write_documents(documents)
        with pytest.raises(omendb.LockedError):
            OmenDBDocumentStore(path=path)
        before = store.embedding_retrieval(documents[3].embedding, top_k=5)
    with OmenDBDocumentStore(path=path) as store:
        assert store.count_documents() == 31
        assert store.filter_documents() == documents
        assert store.filter_documents({"field": "meta.tag", "operator": "==", "value": "x"}) == documents[-1:]
        assert store.embedding_retrieval(documents[3].embedding, top_k=5) == before
        assert _ids(before)[0] == documents[3].id


@pytest.mark.parametrize("copied", [False, True])
def test_an_interrupted_move_is_finished_on_open(tmp_path, copied):
    """A crash while the first embedding moves pending documents leaves the new collection empty
    (or filled) beside the pending one; the next open finishes the move."""
    path = tmp_path / "db"
    bare = [Document(content=f"bare {i}", meta={"i": i}) for i in range(5)]
    with OmenDBDocumentStore(path=path) as store:
        store.write_documents(bare)
    with omendb.open(path) as db:
        collection = db.collection("haystack", dim=3, metric="cosine")
        if copied:
            records = db.collection("haystack.no-embeddings").get(where={})
            collection.add([r.id for r in records], np.zeros((5, 3)), [r.metadata for r in records])
    with OmenDBDocumentStore(path=path) as store:
        assert store._db.collections() == ["haystack"]
        assert store.filter_documents() == bare
        store.write_documents(_embedded(seed=9, n=2, dim=3))
        assert store.count_documents() == 7


def test_omendb_imports_without_haystack():
    """``import omendb`` works without haystack-ai; the integration says how to install it."""
    code = (
        "import sys; sys.modules['haystack'] = None\n"
        "import omendb\n"
        "try:\n    import omendb.integrations.haystack\n"
        "except ImportError as error:\n    print(error)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install omendb[haystack]" in output
