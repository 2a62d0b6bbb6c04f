"""omendb.integrations.langchain: LangChain's standard vector store suite (sync and async), and what
it leaves out: metadata that round-trips exactly, filters, scores, maximal marginal relevance,
persistence, bad input. Skipped as a whole when langchain-core or langchain-tests is missing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("langchain_core")
pytest.importorskip("langchain_tests")

import omendb  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings  # noqa: E402
from langchain_core.indexing import InMemoryRecordManager, index  # noqa: E402
from langchain_core.vectorstores.utils import maximal_marginal_relevance  # noqa: E402
from langchain_tests.integration_tests import VectorStoreIntegrationTests  # noqa: E402
from omendb.integrations.langchain import JSON_KEY, TEXT_KEY, OmenDBVectorStore  # noqa: E402

# The standard suite's async tests run on asyncio through anyio's plugin (a dependency of
# langchain-core); it leaves the sync tests alone.
pytestmark = pytest.mark.anyio


class TestStandard(VectorStoreIntegrationTests):
    """LangChain's standard tests, each on an empty in-memory store."""

    @pytest.fixture
    def vectorstore(self):
        with OmenDBVectorStore(embedding=self.get_embeddings()) as store:
            yield store


class TableEmbedding(Embeddings):
    """Deterministic embeddings: each text's vector is read from a table."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table[text] for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.table[text]


# Around the query [1, 0, 0]: "a" and its near-copy "a2" are the nearest, "b" is a little farther
# but points elsewhere, "c" is orthogonal. By cosine similarity: a, a2, b, c.
MMR_TABLE = {
    "q": [1.0, 0.0, 0.0],
    "a": [1.0, 0.1, 0.0],
    "a2": [1.0, 0.1, 0.02],
    "b": [1.0, -0.3, 0.0],
    "c": [0.0, 1.0, 0.0],
}

# Unit vectors at cosine similarity 1, 0.6, 0 and -1 to the query "q".
SCORE_TABLE = {
    "q": [1.0, 0.0],
    "same": [1.0, 0.0],
    "near": [0.6, 0.8],
    "orthogonal": [0.0, 1.0],
    "opposite": [-1.0, 0.0],
}

# Metadata of every kind: native fields, and values only JSON holds.
RICH_METADATA = {
    "none": None,
    "flag": True,
    "year": 2021,
    "ratio": 0.1,
    "title": "héllo",
    "tags": ["ai", "news"],
    "no_tags": [],
    "nested": {"a": [1, 2.5, None], "b": {"c": "d"}},
    "scores": [3, 1],
    "mixed": ["a", 1],
    "huge": 2**70,
    "infinite": float("inf"),
}


@pytest.fixture
def embedding():
    return DeterministicFakeEmbedding(size=8)


@pytest.fixture
def store(embedding):
    """An empty in-memory store on 8-dimensional fake embeddings."""
    with OmenDBVectorStore(embedding=embedding) as vectorstore:
        yield vectorstore


@pytest.fixture
def articles(store):
    """The store holding six articles with a year and a tag."""
    store.add_texts(
        [f"article {i}" for i in range(6)],
        [{"year": 2019 + i, "tag": "news" if i % 2 else "blog"} for i in range(6)],
        ids=[str(i) for i in range(6)],
    )
    return store


def ids_of(documents) -> list[str]:
    return [document.id for document in documents]


def test_metadata_round_trips_exactly(store, tmp_path):
    """Every kind of metadata comes back equal, from get_by_ids and from searches, also after reopening."""
    store.add_texts(["rich", "plain"], [RICH_METADATA, None], ids=["r", "p"])
    expected = [Document(id="r", page_content="rich", metadata=RICH_METADATA), Document(id="p", page_content="plain")]
    assert store.get_by_ids(["r", "p"]) == expected
    assert sorted(store.similarity_search("rich", k=2), key=lambda d: d.id) == sorted(expected, key=lambda d: d.id)

    with OmenDBVectorStore(embedding=store.embeddings, path=tmp_path / "db") as on_disk:
        on_disk.add_texts(["rich"], [RICH_METADATA], ids=["r"])
    with OmenDBVectorStore(embedding=store.embeddings, path=tmp_path / "db") as reopened:
        assert reopened.get_by_ids(["r"]) == expected[:1]


def test_native_fields_are_filterable_and_json_ones_are_not(store):
    """Fields OmenDB stores natively match filters; values kept as JSON look missing to them."""
    store.add_texts(["rich"], [RICH_METADATA], ids=["r"])
    for matching in ({"year": 2021}, {"tags": "ai"}, {"flag": True}, {"ratio": {"$lt": 0.2}}, {"title": "héllo"}):
        assert ids_of(store.similarity_search("rich", k=1, filter=matching)) == ["r"], matching
    for json_only in ({"scores": {"$exists": True}}, {"nested": {"$exists": True}}, {"huge": {"$gt": 0}}):
        assert store.similarity_search("rich", k=1, filter=json_only) == [], json_only


def test_filters_in_dict_and_string_form(articles):
    """filter= takes OmenDB's where in both forms, in every search and in delete."""
    query = [1.0] * 8
    as_dict = {"year": {"$gte": 2021}, "tag": "news"}
    as_string = "year >= 2021 AND tag = 'news'"
    for where in (as_dict, as_string):
        assert sorted(ids_of(articles.similarity_search("article 0", k=6, filter=where))) == ["3", "5"]
        assert sorted(ids_of(articles.similarity_search_by_vector(query, k=6, filter=where))) == ["3", "5"]
        assert len(articles.similarity_search_with_score("x", k=6, filter=where)) == 2
        assert len(articles.similarity_search_with_relevance_scores("x", k=6, filter=where)) == 2
        assert sorted(ids_of(articles.max_marginal_relevance_search("x", k=2, fetch_k=6, filter=where))) == ["3", "5"]
    assert articles.similarity_search("x", k=6, filter={"year": {"$gt": 3000}}) == []
    articles.delete(filter={"tag": "blog"})
    assert sorted(ids_of(articles.similarity_search("x", k=6))) == ["1", "3", "5"]
    articles.delete(filter={})
    assert articles.similarity_search("x", k=6) == []


def test_the_text_is_filterable(articles):
    """The text lives under TEXT_KEY, so filters can test it: $contains is a substring test."""
    assert ids_of(articles.similarity_search("x", k=6, filter={TEXT_KEY: {"$contains": "cle 4"}})) == ["4"]


def test_malformed_filter_raises(articles):
    with pytest.raises(omendb.FilterError, match=r"\$near"):
        articles.similarity_search("x", filter={"year": {"$near": 1}})
    with pytest.raises(omendb.FilterError, match="position"):
        articles.similarity_search("x", filter="year >=")


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
def test_scores_and_relevance(metric):
    """similarity_search_with_score gives OmenDB's distance; relevance is the cosine similarity of
    unit vectors, clipped to [0, 1], whatever the metric, with no out-of-range warning."""
    texts = ["opposite", "orthogonal", "near", "same"]
    with OmenDBVectorStore.from_texts(texts, TableEmbedding(SCORE_TABLE), ids=texts, metric=metric) as store:
        cosines = np.array([1.0, 0.6, 0.0, -1.0])
        expected_distance = {"cosine": 1 - cosines, "l2": 2 - 2 * cosines, "ip": -cosines}[metric]
        with_score = store.similarity_search_with_score("q", k=4)
        assert ids_of(d for d, _ in with_score) == ["same", "near", "orthogonal", "opposite"]
        np.testing.assert_allclose([score for _, score in with_score], expected_distance, atol=1e-6)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            relevance = store.similarity_search_with_relevance_scores("q", k=4)
            np.testing.assert_allclose([score for _, score in relevance], [1.0, 0.6, 0.0, 0.0], atol=1e-6)
            above = store.similarity_search_with_relevance_scores("q", k=4, score_threshold=0.5)
        assert ids_of(d for d, _ in above) == ["same", "near"]


def test_mmr_prefers_diverse_documents():
    """MMR skips the near-copy of the nearest document; lambda_mult=1 is the nearest-first order."""
    texts = ["a", "a2", "b", "c"]
    with OmenDBVectorStore.from_texts(texts, TableEmbedding(MMR_TABLE), ids=texts) as store:
        assert ids_of(store.similarity_search("q", k=2)) == ["a", "a2"]
        assert ids_of(store.max_marginal_relevance_search("q", k=2)) == ["a", "b"]
        assert ids_of(store.max_marginal_relevance_search("q", k=3, lambda_mult=1.0)) == ["a", "a2", "b"]
        assert ids_of(store.max_marginal_relevance_search("q", k=2, lambda_mult=0.0)) == ["a", "c"]
        assert ids_of(store.max_marginal_relevance_search("q", k=2, fetch_k=2)) == ["a", "a2"]  # the 2 nearest
        assert len(store.max_marginal_relevance_search_by_vector([1.0, 0.0, 0.0], k=9, fetch_k=9)) == 4


def test_mmr_agrees_with_langchain_helper():
    """On random data, the picks equal those of langchain_core's maximal_marginal_relevance."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(60, 16))
    table = {f"t{i}": list(vector) for i, vector in enumerate(vectors)}
    query = rng.normal(size=16)
    with OmenDBVectorStore.from_texts(list(table), TableEmbedding(table), ids=list(table), metric="l2") as store:
        fetched = store.similarity_search_by_vector(query, k=30)
        candidates = np.array([table[document.id] for document in fetched])
        for lambda_mult in (0.0, 0.25, 0.5, 0.9):
            expected = [fetched[i].id for i in maximal_marginal_relevance(query, candidates, lambda_mult, k=10)]
            found = store.max_marginal_relevance_search_by_vector(query, k=10, fetch_k=30, lambda_mult=lambda_mult)
            assert ids_of(found) == expected, lambda_mult


def test_from_documents_and_updates(embedding):
    """from_documents keeps the documents' ids; adding an existing id replaces that document."""
    documents = [Document(id="x", page_content="first", metadata={"v": 1}), Document(page_content="second")]
    with OmenDBVectorStore.from_documents(documents, embedding, metric="l2", collection="c") as store:
        stored = store.get_by_ids(["x"])
        assert stored == [documents[0]]
        store.add_documents([Document(id="x", page_content="third", metadata={"v": 2})])
        assert store.get_by_ids(["x"]) == [Document(id="x", page_content="third", metadata={"v": 2})]
        assert len(store.similarity_search("any", k=10)) == 2
        assert store.add_texts([]) == []


def test_batches_and_the_indexing_api(store):
    """batch_size splits the writes; langchain_core.indexing.index (which passes it) adds, skips
    what is unchanged and deletes what left the source."""
    store.add_texts([f"text {i}" for i in range(5)], batch_size=2)
    assert len(store.similarity_search("x", k=10)) == 5
    store.delete(filter={})
    manager = InMemoryRecordManager(namespace="omendb")
    documents = [Document(page_content=f"doc {i}", metadata={"source": "s"}) for i in range(5)]
    assert index(documents, manager, store, cleanup="full", batch_size=2, key_encoder="sha256")["num_added"] == 5
    result = index(documents[:3], manager, store, cleanup="full", key_encoder="sha256")
    assert (result["num_skipped"], result["num_deleted"]) == (3, 2)
    assert sorted(d.page_content for d in store.similarity_search("x", k=10)) == ["doc 0", "doc 1", "doc 2"]


def test_persists_in_a_folder(embedding, tmp_path):
    """A store on a folder keeps its documents; the folder has one writer; the metric must match."""
    path = tmp_path / "db"
    with OmenDBVectorStore(embedding=embedding, path=path, collection="docs", metric="ip") as store:
        store.add_texts(["kept"], [{"n": 1}], ids=["k"])
        with pytest.raises(omendb.LockedError):
            OmenDBVectorStore(embedding=embedding, path=path)
    with pytest.raises(omendb.InvalidArgumentError, match="metric"):
        OmenDBVectorStore(embedding=embedding, path=path, collection="docs", metric="cosine")
    with OmenDBVectorStore(embedding=embedding, path=path, collection="docs", metric="ip") as store:
        assert ids_of(store.similarity_search("kept", k=5)) == ["k"]
    with OmenDBVectorStore(embedding=embedding, path=path, collection="other") as store:
        assert store.similarity_search("kept", k=5) == []


@pytest.mark.parametrize(
    "metadata, message",
    [
        ({"point": (1, 2)}, r"metadata\['point'\] is a tuple"),
        ({"when": {"nested": {1, 2}}}, r"metadata\['when'\]\['nested'\] is a set"),
        ({"raw": b"x"}, r"metadata\['raw'\] is a bytes"),
        ({"deep": {"key": [1, (2,)]}}, r"metadata\['deep'\]\['key'\]\[1\] is a tuple"),
        ({"ok": {1: "x"}}, r"metadata\['ok'\] has a key that is not a str"),
        ({1: "x"}, "keys must be str"),
        ({TEXT_KEY: "x"}, "reserved"),
        ({JSON_KEY: "{}"}, "reserved"),
    ],
    ids=["tuple", "set", "bytes", "nested-tuple", "nested-int-key", "int-key", "text-key", "json-key"],
)
def test_unstorable_metadata_is_refused(store, metadata, message):
    """Metadata that would not come back equal raises, naming the key, and nothing is added."""
    store.add_texts(["before"], ids=["b"])
    with pytest.raises(omendb.InvalidArgumentError, match=message):
        store.add_texts(["ok", "bad"], [{"fine": 1}, metadata], ids=["ok", "bad"])
    assert ids_of(store.similarity_search("x", k=5)) == ["b"]


def test_bad_arguments_raise(store, embedding):
    with pytest.raises(omendb.InvalidArgumentError, match="metric"):
        OmenDBVectorStore(embedding=embedding, metric="dot")
    with pytest.raises(omendb.InvalidArgumentError, match="Embeddings"):
        OmenDBVectorStore(embedding=lambda text: [0.0])
    with pytest.raises(TypeError):
        OmenDBVectorStore(embedding)  # keyword arguments only
    with pytest.raises(omendb.InvalidArgumentError, match="metadatas must hold one entry per text"):
        store.add_texts(["a", "b"], [{}])
    with pytest.raises(omendb.InvalidArgumentError, match="ids must hold one entry per text"):
        store.add_texts(["a"], ids=["1", "2"])
    with pytest.raises(omendb.InvalidArgumentError, match="batch_size must be an int"):
        store.add_texts(["a"], batch_size=0)
    with pytest.raises(omendb.InvalidArgumentError, match="texts must be a list"):
        store.add_texts("abc")
    with pytest.raises(omendb.InvalidArgumentError, match="texts must be str"):
        store.add_texts([b"abc"])
    with pytest.raises(omendb.DuplicateIdError):
        store.add_texts(["a", "b"], ids=["1", "1"])
    with pytest.raises(omendb.InvalidArgumentError, match="exactly one"):
        store.delete()
    for k in (0, -1, 1.5, True):
        with pytest.raises(omendb.InvalidArgumentError, match="k must be an int"):
            store.similarity_search("x", k=k)
    with pytest.raises(omendb.InvalidArgumentError, match="fetch_k must be at least k"):
        store.max_marginal_relevance_search("x", k=5, fetch_k=4)
    with pytest.raises(omendb.InvalidArgumentError, match="lambda_mult"):
        store.max_marginal_relevance_search("x", lambda_mult=1.5)
    store.add_texts(["a"])
    with pytest.raises(omendb.DimensionError):
        store.similarity_search_by_vector([1.0, 2.0])
    with pytest.raises(TypeError):
        store.similarity_search("x", k=1, where={})  # the filter is filter=


def test_empty_store_answers_every_call(store):
    """Before the first add (no collection yet) searches find nothing and deletes delete nothing."""
    assert store.similarity_search_with_score("x") == []
    assert store.max_marginal_relevance_search("x") == []
    assert store.get_by_ids(["x"]) == []
    assert store.delete(["x"]) is True
    assert store.delete(filter={}) is True


@pytest.mark.parametrize("added", [False, True])
def test_a_closed_store_raises_on_every_call(embedding, added):
    """After close(), with or without a collection yet, every call raises ClosedError."""
    store = OmenDBVectorStore(embedding=embedding)
    if added:
        store.add_texts(["one"], ids=["1"])
    store.close()
    for call in (lambda: store.similarity_search("x"), lambda: store.max_marginal_relevance_search("x"),
                 lambda: store.get_by_ids(["1"]), lambda: store.delete(["1"]), lambda: store.add_texts(["two"])):
        with pytest.raises(omendb.ClosedError):
            call()


def test_concurrent_first_adds_create_one_collection(store):
    """Adds from many threads at once, the first ones racing to create the collection, all land."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: store.add_texts([f"text {i}"], ids=[str(i)]), range(32)))
    assert len(store.similarity_search("x", k=100)) == 32


def test_retrievers(articles):
    """as_retriever passes k and filter through, for each search type."""
    retriever = articles.as_retriever(search_kwargs={"k": 2, "filter": {"tag": "news"}})
    assert {document.metadata["tag"] for document in retriever.invoke("x")} == {"news"}
    mmr = articles.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 6, "filter": "year < 2021"})
    assert sorted(ids_of(mmr.invoke("x"))) == ["0", "1"]
    threshold = articles.as_retriever(search_type="similarity_score_threshold", search_kwargs={"score_threshold": 0.0})
    assert len(threshold.invoke("x")) == 4  # the default k


async def test_async_calls(embedding):
    """The async methods (LangChain's defaults, in a worker thread) take the same arguments."""
    store = await OmenDBVectorStore.afrom_texts(
        ["a", "b", "c"], embedding, [{"n": 1}, {"n": 2}, {"n": 3}], ids=["a", "b", "c"]
    )
    with store:
        assert ids_of(await store.asimilarity_search("a", k=3, filter={"n": {"$gte": 2}})) in (["b", "c"], ["c", "b"])
        assert len(await store.asimilarity_search_with_relevance_scores("a", k=3, filter="n = 1")) == 1
        assert len(await store.amax_marginal_relevance_search("a", k=2, fetch_k=3, filter={"n": {"$ne": 1}})) == 2
        await store.adelete(filter={"n": 2})
        found = await asyncio.gather(*(store.asimilarity_search(text, k=3) for text in ("a", "b", "c")))
        assert all(sorted(ids_of(documents)) == ["a", "c"] for documents in found)


def test_omendb_imports_without_langchain():
    """import omendb (and omendb.integrations) works without langchain-core; the integration says
    what to install."""
    script = (
        "import sys\n"
        "sys.modules['langchain_core'] = None\n"  # makes importing it fail
        "import omendb, omendb.integrations\n"
        "try:\n"
        "    import omendb.integrations.langchain\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "pip install omendb[langchain]" in result.stdout
