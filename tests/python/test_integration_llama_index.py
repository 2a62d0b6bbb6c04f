"""omendb.integrations.llama_index.OmenDBVectorStore: the behaviours llama-index-core tests its own
SimpleVectorStore for (add, query, filters, top-k, delete by ref_doc_id, delete_nodes, clear), checked
against SimpleVectorStore itself where it serves the same filter, plus what only a store that keeps
text has: get_nodes, round trips of nodes, async calls, persistence in a folder, and a
VectorStoreIndex end to end. Skipped when llama-index-core is not installed."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import Document, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.base.embeddings.base import BaseEmbedding  # noqa: E402
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode  # noqa: E402
from llama_index.core.vector_stores import SimpleVectorStore  # noqa: E402
from llama_index.core.vector_stores.types import (  # noqa: E402
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

import omendb  # noqa: E402
from omendb.integrations.llama_index import OmenDBVectorStore, metadata_filters_to_where  # noqa: E402

A = "AF3BE6C4-5F43-4D74-B075-6B0E07900DE8"  # weight 1, rank a
B = "7D9CD555-846C-445C-A9DD-F8924A01411D"  # weight 2, rank c
C = "452D24AB-F185-414C-A352-590B4B9EE51B"  # weight 3, rank c


def make_nodes() -> list[TextNode]:
    """Three nodes from three source documents ("test-0".."test-2"), as in llama-index-core's tests,
    with a field ``note`` that is None, "" and set."""
    rows = [
        (A, [1.0, 0.0], 1.0, "a", ["medium", "high"], "6FTR78Yun", None),
        (B, [0.0, 1.0], 2.0, "c", ["medium"], "6FTR78Ygl", ""),
        (C, [1.0, 1.0], 3.0, "c", ["low", "medium", "high"], "6FTR78Ztl", "kept"),
    ]
    return [
        TextNode(
            text=f"lorem ipsum {index}",
            id_=node_id,
            embedding=embedding,
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=f"test-{index}")},
            metadata={"weight": weight, "rank": rank, "quality": quality, "identifier": identifier, "note": note},
        )
        for index, (node_id, embedding, weight, rank, quality, identifier, note) in enumerate(rows)
    ]


@pytest.fixture
def store():
    """An in-memory store holding make_nodes()."""
    vector_store = OmenDBVectorStore()
    vector_store.add(make_nodes())
    yield vector_store
    vector_store.close()


def query_ids(vector_store, filters=None, k=3, **fields) -> list[str]:
    """Ids of the k nodes nearest to [1, 1] that match ``filters``."""
    query = VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=k, filters=filters, **fields)
    return vector_store.query(query).ids


def one(key, operator, value) -> MetadataFilters:
    return MetadataFilters(filters=[MetadataFilter(key=key, operator=operator, value=value)])


# --- add and query ---


def test_query_returns_nodes_sorted_by_similarity(store):
    result = store.query(VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=3))
    assert result.ids == [C, A, B] or result.ids == [C, B, A]  # A and B tie
    assert result.similarities[0] == pytest.approx(1.0)
    assert result.similarities[1:] == pytest.approx([2**-0.5, 2**-0.5])
    assert [node.node_id for node in result.nodes] == result.ids


def test_query_applies_top_k(store):
    assert query_ids(store, k=1) == [C]
    assert query_ids(store, one("rank", FilterOperator.EQ, "c"), k=1) == [C]
    assert len(query_ids(store, k=10)) == 3


def test_nodes_round_trip_with_text_metadata_and_source():
    node = TextNode(
        text="some text",
        id_="n1",
        embedding=[0.5, 0.25],
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="doc-1")},
        metadata={"none": None, "dict": {"a": [1, 2]}, "numbers": [1.5, 2], "big": 2**70, "tags": ["x"], "flag": True},
        start_char_idx=3,
        end_char_idx=12,
    )
    vector_store = OmenDBVectorStore()
    assert vector_store.add([node]) == ["n1"]
    hit = vector_store.query(VectorStoreQuery(query_embedding=[0.5, 0.25])).nodes[0]
    got = vector_store.get_nodes(["n1"])[0]
    for stored in (hit, got):
        assert stored.text == "some text"
        assert stored.metadata == node.metadata
        assert stored.ref_doc_id == "doc-1"
        assert (stored.start_char_idx, stored.end_char_idx) == (3, 12)
        assert stored.embedding is None


def test_add_replaces_a_node_with_the_same_id(store):
    node = make_nodes()[0]
    node.text = "replaced"
    node.metadata["rank"] = "z"
    store.add([node])
    assert len(store.client.collection("llama_index")) == 3
    assert store.get_nodes([A])[0].text == "replaced"
    assert query_ids(store, one("rank", FilterOperator.EQ, "z")) == [A]


def test_add_nothing_returns_no_ids():
    vector_store = OmenDBVectorStore()
    assert vector_store.add([]) == []
    assert query_ids(vector_store) == []


def test_query_of_an_empty_store_returns_nothing():
    result = OmenDBVectorStore().query(VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=5))
    assert (result.ids, result.similarities, result.nodes) == ([], [], [])


def test_add_refuses_a_node_without_embedding(store):
    with pytest.raises(omendb.InvalidArgumentError, match="node 'x' has no embedding"):
        store.add([TextNode(text="t", id_="x")])


def test_add_refuses_reserved_metadata_keys(store):
    node = TextNode(text="t", id_="x", embedding=[1.0, 0.0], metadata={"_node_content": "mine"})
    with pytest.raises(omendb.InvalidArgumentError, match="'_node_content', which OmenDBVectorStore reserves"):
        store.add([node])


def test_add_refuses_another_dimension(store):
    with pytest.raises(omendb.DimensionError):
        store.add([TextNode(text="t", id_="x", embedding=[1.0, 0.0, 0.0])])


def test_add_is_all_or_nothing(store):
    good = TextNode(text="t", id_="good", embedding=[1.0, 0.0])
    bad = TextNode(text="t", id_="bad", embedding=[float("nan"), 0.0])
    with pytest.raises(omendb.InvalidArgumentError):
        store.add([good, bad])
    assert store.get_nodes(["good"]) == []


def test_query_needs_an_embedding(store):
    with pytest.raises(omendb.InvalidArgumentError, match="query_embedding is None"):
        store.query(VectorStoreQuery(query_str="text only"))


@pytest.mark.parametrize("mode", [mode for mode in VectorStoreQueryMode if mode != VectorStoreQueryMode.DEFAULT])
def test_query_modes_other_than_default_raise(store, mode):
    with pytest.raises(omendb.NotSupportedError, match=f"query mode '{mode.value}' is not supported"):
        store.query(VectorStoreQuery(query_embedding=[1.0, 1.0], mode=mode))


@pytest.mark.parametrize(
    "metric, similarities",
    [("cosine", [1.0, 2**-0.5]), ("ip", [2.0, 1.0]), ("l2", [1.0, 1 / (1 + 1.0)])],
)
def test_similarity_per_metric(metric, similarities):
    vector_store = OmenDBVectorStore(metric=metric)
    vector_store.add(make_nodes()[1:])  # [0, 1] and [1, 1]
    result = vector_store.query(VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=2))
    assert result.ids == [C, B]
    assert result.similarities == pytest.approx(similarities)


def test_unknown_metric_raises():
    with pytest.raises(omendb.InvalidArgumentError, match="metric must be one of"):
        OmenDBVectorStore(metric="hamming")


def test_query_restricts_to_node_ids_and_doc_ids(store):
    assert query_ids(store, one("rank", FilterOperator.EQ, "c"), node_ids=[C]) == [C]
    assert sorted(query_ids(store, node_ids=[A, B])) == sorted([A, B])
    assert query_ids(store, doc_ids=["test-1"]) == [B]
    assert len(query_ids(store, node_ids=[], doc_ids=[])) == 3  # what VectorStoreIndex passes: no restriction


# --- filters ---

# (filter, ids expected): each served as SimpleVectorStore serves it.
FLAT_FILTERS = [
    (one("rank", FilterOperator.EQ, "c"), {B, C}),
    (one("weight", FilterOperator.EQ, 1.0), {A}),
    (one("weight", FilterOperator.EQ, 2), {B}),  # an int matches the float 2.0
    (one("weight", FilterOperator.NE, 1.0), {B, C}),
    (one("weight", FilterOperator.GT, 1.5), {B, C}),
    (one("weight", FilterOperator.GTE, 1.0), {A, B, C}),
    (one("weight", FilterOperator.LT, 1.1), {A}),
    (one("weight", FilterOperator.LTE, 1.0), {A}),
    (one("rank", FilterOperator.IN, ["a", "c"]), {A, B, C}),
    (one("rank", FilterOperator.NIN, ["c"]), {A}),
    (one("weight", FilterOperator.IN, [1, 3.0]), {A, C}),
    (one("quality", FilterOperator.CONTAINS, "high"), {A, C}),
    (one("identifier", FilterOperator.TEXT_MATCH, "6FTR78Y"), {A, B}),
    (one("quality", FilterOperator.ANY, ["high", "low"]), {A, C}),
    (one("quality", FilterOperator.ALL, ["medium", "high"]), {A, C}),
    (one("not_existed_key", FilterOperator.IS_EMPTY, None), {A, B, C}),
    (one("note", FilterOperator.IS_EMPTY, None), {A, B}),  # None and ""
    (one("unknown_field", FilterOperator.EQ, "c"), set()),
    (one("note", FilterOperator.NE, "kept"), {A, B}),  # a None compares unequal
    (one("note", FilterOperator.NIN, ["kept"]), {A, B}),
    (MetadataFilters(filters=[MetadataFilter(key="rank", value="c"), MetadataFilter(key="weight", value=2.0)]), {B}),
    (MetadataFilters(filters=[MetadataFilter(key="weight", value=2), MetadataFilter(key="weight", value=3)]), set()),
    (
        MetadataFilters(
            filters=[MetadataFilter(key="rank", value="c"), MetadataFilter(key="weight", value=1.0)],
            condition=FilterCondition.OR,
        ),
        {A, B, C},
    ),
    (MetadataFilters(filters=[MetadataFilter(key="rank", value="a")], condition=FilterCondition.NOT), {B, C}),
    (MetadataFilters(filters=[]), {A, B, C}),
]


@pytest.mark.parametrize("filters, expected", FLAT_FILTERS)
def test_filters_match_as_in_simple_vector_store(store, filters, expected):
    simple = SimpleVectorStore()
    simple.add(make_nodes())
    assert set(query_ids(simple, filters)) == expected
    assert set(query_ids(store, filters)) == expected


def test_filters_keep_similarity_order(store):
    assert query_ids(store, one("rank", FilterOperator.EQ, "c")) == [C, B]


def test_nested_filters(store):
    rank_c_heavy = MetadataFilters(
        filters=[
            MetadataFilter(key="rank", value="c"),
            MetadataFilter(key="weight", operator=FilterOperator.GTE, value=3),
        ]
    )
    rank_a_or_heavy_c = MetadataFilters(
        filters=[MetadataFilter(key="rank", value="a"), rank_c_heavy], condition=FilterCondition.OR
    )
    assert set(query_ids(store, rank_a_or_heavy_c)) == {A, C}
    assert query_ids(store, MetadataFilters(filters=[rank_a_or_heavy_c], condition=FilterCondition.NOT)) == [B]
    low_or_only_medium = MetadataFilters(
        filters=[
            one("quality", FilterOperator.CONTAINS, "low"),
            one("quality", FilterOperator.EQ, ["medium"]),  # the whole list
        ],
        condition=FilterCondition.OR,
    )
    with_weight = MetadataFilters(
        filters=[low_or_only_medium, MetadataFilter(key="weight", operator=FilterOperator.LT, value=3)]
    )
    assert query_ids(store, with_weight) == [B]


def test_filters_translate_to_omendb_where():
    filters = MetadataFilters(
        filters=[
            MetadataFilter(key="year", operator=FilterOperator.GTE, value=2020),
            MetadataFilters(
                filters=[
                    MetadataFilter(key="tags", operator=FilterOperator.ANY, value=["ai", "db"]),
                    MetadataFilter(key="title", operator=FilterOperator.IS_EMPTY, value=None),
                ],
                condition=FilterCondition.OR,
            ),
            MetadataFilters(
                filters=[MetadataFilter(key="lang", operator=FilterOperator.NIN, value=["de"])],
                condition=FilterCondition.NOT,
            ),
        ]
    )
    assert metadata_filters_to_where(filters) == {
        "$and": [
            {"year": {"$gte": 2020}},
            {
                "$or": [
                    {"$or": [{"tags": {"$contains": "ai"}}, {"tags": {"$contains": "db"}}]},
                    {"$or": [{"title": {"$exists": False}}, {"title": ""}, {"title": []}]},
                ]
            },
            {"$not": {"$or": [{"lang": {"$nin": ["de"]}}]}},
        ]
    }


def test_filters_see_fields_omendb_cannot_store_as_missing():
    vector_store = OmenDBVectorStore()
    vector_store.add([TextNode(text="t", id_="x", embedding=[1.0, 0.0], metadata={"scores": [1, 2], "d": {"a": 1}})])
    assert query_ids(vector_store, one("d", FilterOperator.IS_EMPTY, None)) == ["x"]
    assert query_ids(vector_store, one("scores", FilterOperator.GT, 0)) == []
    with pytest.raises(omendb.FilterError, match="must hold only strings"):
        query_ids(vector_store, one("scores", FilterOperator.EQ, [1, 2]))


def test_unservable_operator_raises_naming_it(store):
    with pytest.raises(omendb.NotSupportedError, match="TEXT_MATCH_INSENSITIVE on 'identifier' cannot be served"):
        query_ids(store, one("identifier", FilterOperator.TEXT_MATCH_INSENSITIVE, "6ftr"))


@pytest.mark.parametrize(
    "operator, value, message",
    [
        (FilterOperator.CONTAINS, 5, "CONTAINS on 'quality' takes a str"),
        (FilterOperator.TEXT_MATCH, ["a"], "TEXT_MATCH on 'quality' takes a str"),
        (FilterOperator.IN, "a", "IN on 'quality' takes a list, got str"),
        (FilterOperator.NIN, 1, "NIN on 'quality' takes a list, got int"),
        (FilterOperator.ANY, [], "ANY on 'quality' takes a non-empty list of str"),
        (FilterOperator.ALL, [1, 2], "ALL on 'quality' takes a non-empty list of str"),
    ],
)
def test_filter_values_of_the_wrong_type_raise(store, operator, value, message):
    with pytest.raises(omendb.InvalidArgumentError, match=message):
        query_ids(store, one("quality", operator, value))


def test_every_filter_operator_is_served_or_refused(store):
    tried = {filters.filters[0].operator for filters, _ in FLAT_FILTERS if filters.filters}
    assert tried | {FilterOperator.TEXT_MATCH_INSENSITIVE} == set(FilterOperator)


# --- delete, get_nodes, delete_nodes, clear ---


def test_delete_removes_the_nodes_of_a_document(store):
    store.delete("test-1")
    assert query_ids(store, k=2) == [C, A]
    store.delete("no-such-document")
    assert len(query_ids(store)) == 2


def test_delete_of_an_empty_store_does_nothing():
    OmenDBVectorStore().delete("test-0")


def test_get_nodes_by_ids_in_the_order_given(store):
    assert [node.node_id for node in store.get_nodes([C, "missing", A])] == [C, A]
    assert store.get_nodes([]) == []


def test_get_nodes_by_filters_and_ids(store):
    rank_c = one("rank", FilterOperator.EQ, "c")
    assert {node.node_id for node in store.get_nodes(filters=rank_c)} == {B, C}
    assert [node.node_id for node in store.get_nodes([A, B], filters=rank_c)] == [B]
    assert [node.node_id for node in store.get_nodes()] == [A, B, C]
    assert OmenDBVectorStore().get_nodes([A]) == []


def test_delete_nodes_by_ids(store):
    store.delete_nodes([A, B, "missing"])
    assert query_ids(store) == [C]


def test_delete_nodes_by_filters_and_ids(store):
    store.delete_nodes([A, B], filters=one("rank", FilterOperator.EQ, "c"))
    assert sorted(query_ids(store)) == sorted([A, C])
    store.delete_nodes(filters=one("weight", FilterOperator.GT, 2))
    assert query_ids(store) == [A]


def test_delete_nodes_needs_ids_or_filters(store):
    with pytest.raises(omendb.InvalidArgumentError, match="use clear"):
        store.delete_nodes()


def test_clear_removes_everything_and_frees_the_dimension(store):
    store.clear()
    assert query_ids(store) == []
    assert store.get_nodes() == []
    store.clear()
    store.add([TextNode(text="t", id_="x", embedding=[1.0, 0.0, 0.0])])
    assert store.query(VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0])).ids == ["x"]


# --- async ---


def test_async_variants(store):
    async def scenario():
        extra = TextNode(
            text="t",
            id_="x",
            embedding=[1.0, 1.0],
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="test-9")},
        )
        assert await store.async_add([extra]) == ["x"]
        result = await store.aquery(VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=2))
        assert set(result.ids) == {C, "x"}
        assert [node.node_id for node in await store.aget_nodes(["x"])] == ["x"]
        await store.adelete("test-9")
        await store.adelete_nodes([A])
        await store.adelete_nodes(filters=one("weight", FilterOperator.EQ, 2.0))
        assert [node.node_id for node in await store.aget_nodes()] == [C]
        await store.aclear()
        assert await store.aget_nodes() == []

    asyncio.run(scenario())


def test_concurrent_async_adds_into_a_new_collection():
    vector_store = OmenDBVectorStore()

    async def scenario():
        batches = [
            [TextNode(text="t", id_=f"{batch}-{i}", embedding=[float(i), 1.0]) for i in range(5)] for batch in range(4)
        ]
        await asyncio.gather(*(vector_store.async_add(batch) for batch in batches))

    asyncio.run(scenario())
    assert len(vector_store.get_nodes()) == 20


# --- persistence ---


def test_a_folder_keeps_the_nodes(tmp_path):
    vector_store = OmenDBVectorStore(path=tmp_path / "db", collection="docs")
    vector_store.add(make_nodes())
    vector_store.delete("test-1")
    with pytest.raises(omendb.LockedError):
        OmenDBVectorStore(path=tmp_path / "db", collection="docs")
    vector_store.close()

    reopened = OmenDBVectorStore(path=str(tmp_path / "db"), collection="docs")
    assert query_ids(reopened) == [C, A]
    assert query_ids(reopened, one("quality", FilterOperator.CONTAINS, "low")) == [C]
    assert reopened.get_nodes([A])[0].text == "lorem ipsum 0"
    reopened.add([TextNode(text="t", id_="x", embedding=[0.0, 1.0])])
    reopened.close()

    with pytest.raises(omendb.InvalidArgumentError, match="metric='cosine', not 'l2'"):
        OmenDBVectorStore(path=tmp_path / "db", collection="docs", metric="l2")
    other = OmenDBVectorStore(path=tmp_path / "db", collection="other")
    assert other.get_nodes() == []
    assert sorted(other.client.collections()) == ["docs"]
    other.close()


@pytest.mark.parametrize("added", [False, True])
def test_a_closed_store_raises_on_every_call(added):
    """After close(), with or without a collection yet, every call raises ClosedError."""
    vector_store = OmenDBVectorStore()
    if added:
        vector_store.add(make_nodes())
    vector_store.close()
    calls = [
        lambda: vector_store.query(VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=1)),
        lambda: vector_store.get_nodes(),
        lambda: vector_store.delete("test-1"),
        lambda: vector_store.delete_nodes(["x"]),
        lambda: vector_store.clear(),
        lambda: vector_store.add([TextNode(text="t", id_="x", embedding=[0.0, 1.0])]),
    ]
    for call in calls:
        with pytest.raises(omendb.ClosedError):
            call()


# --- VectorStoreIndex end to end ---

VOCABULARY = ["cat", "dog", "fish", "bird"]


class KeywordEmbedding(BaseEmbedding):
    """A deterministic fake embedding: how often each word of VOCABULARY occurs in the text."""

    def _get_text_embedding(self, text: str) -> list[float]:
        words = text.lower().replace(".", " ").split()
        return [float(sum(word.startswith(term) for word in words)) for term in VOCABULARY]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)


DOCUMENTS = [
    Document(text="Cats purr. A cat sleeps all day.", id_="cats", metadata={"kind": "mammal"}),
    Document(text="Dogs bark. The dog fetches.", id_="dogs", metadata={"kind": "mammal"}),
    Document(text="Fish swim. A fish has fins.", id_="fish", metadata={"kind": "animal"}),
]


def make_index(vector_store) -> VectorStoreIndex:
    return VectorStoreIndex.from_documents(
        DOCUMENTS,
        storage_context=StorageContext.from_defaults(vector_store=vector_store),
        embed_model=KeywordEmbedding(),
    )


def test_vector_store_index_end_to_end(store):
    store.clear()
    index = make_index(store)
    retriever = index.as_retriever(similarity_top_k=1)
    best = retriever.retrieve("where is my dog?")[0]
    assert best.node.ref_doc_id == "dogs"
    assert "fetches" in best.node.get_content()
    assert best.score == pytest.approx(1.0)

    filtered = index.as_retriever(similarity_top_k=3, filters=one("kind", FilterOperator.EQ, "animal")).retrieve("dog")
    assert [hit.node.ref_doc_id for hit in filtered] == ["fish"]

    index.delete_ref_doc("dogs")
    assert "dogs" not in {hit.node.ref_doc_id for hit in index.as_retriever(similarity_top_k=3).retrieve("dog")}

    index.insert(Document(text="Birds fly. A bird sings.", id_="birds"))
    assert index.as_retriever(similarity_top_k=1).retrieve("bird")[0].node.ref_doc_id == "birds"

    hits = asyncio.run(index.as_retriever(similarity_top_k=1).aretrieve("cat"))
    assert hits[0].node.ref_doc_id == "cats"


def test_vector_store_index_over_a_reopened_folder(tmp_path):
    vector_store = OmenDBVectorStore(path=tmp_path)
    make_index(vector_store)
    vector_store.close()

    reopened = OmenDBVectorStore(path=tmp_path)
    index = VectorStoreIndex.from_vector_store(reopened, embed_model=KeywordEmbedding())
    assert index.as_retriever(similarity_top_k=1).retrieve("fish")[0].node.ref_doc_id == "fish"
    reopened.close()


# --- packaging ---


def test_omendb_imports_without_llama_index():
    code = "import sys, omendb, omendb.integrations; assert not [m for m in sys.modules if m.startswith('llama_index')]"
    subprocess.run([sys.executable, "-c", code], check=True)
