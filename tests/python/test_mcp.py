"""OmenDB's MCP tools (omendb.server.mcp), called in-process through the mcp package's own client:
the tools listed, search by vector and by id with a filter, get by ids and by filter, add (creating
a collection, upsert, all or nothing), errors as tool errors naming the omendb class, a read-only
database without add, and serve_mcp's checks."""

from __future__ import annotations

import anyio
import numpy as np
import omendb
import pytest

pytest.importorskip("mcp.server.mcpserver", reason="needs mcp>=2 (MCPServer)")
from mcp import Client
from omendb.server.mcp import create_mcp, serve_mcp


@pytest.fixture
def database(tmp_path):
    """A database with "docs": 100 x 4 l2 vectors, ids d0..d99, metadata {"n": i, "even": i % 2 == 0}."""
    with omendb.open(tmp_path / "db") as opened:
        docs = opened.collection("docs", dim=4, metric="l2")
        vectors = np.random.default_rng(3).random((100, 4), dtype=np.float32)
        docs.add([f"d{i}" for i in range(100)], vectors, [{"n": i, "even": i % 2 == 0} for i in range(100)])
        yield opened


def call(server, tool: str, arguments: dict):
    """The result of one tool call through an in-process MCP client session."""

    async def run():
        async with Client(server) as client:
            return await client.call_tool(tool, arguments)

    return anyio.run(run)


def answer(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content


def error_text(result) -> str:
    assert result.is_error
    return " ".join(getattr(block, "text", "") for block in result.content)


def test_tools_are_listed_with_their_descriptions(database):
    async def run():
        async with Client(create_mcp(database)) as client:
            return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in anyio.run(run)}
    assert set(tools) == {"list_collections", "search", "get", "add"}
    assert "nearest" in tools["search"].description
    assert set(tools["search"].input_schema["properties"]) == {"collection", "vector", "id", "k", "where"}


def test_list_collections(database):
    assert answer(call(create_mcp(database), "list_collections", {})) == {
        "collections": [{"name": "docs", "dim": 4, "metric": "l2", "size": 100}]}


def test_search_by_vector_matches_the_embedded_search(database):
    query = [0.5, 0.5, 0.5, 0.5]
    hits = answer(call(create_mcp(database), "search", {"collection": "docs", "vector": query, "k": 5}))["hits"]
    expected = database.collection("docs").search(np.array(query, dtype=np.float32), k=5)
    assert [hit["id"] for hit in hits] == [hit.id for hit in expected]
    assert [hit["distance"] for hit in hits] == pytest.approx([hit.distance for hit in expected])
    assert hits[0]["metadata"] == expected[0].metadata


def test_search_by_id_with_a_filter(database):
    server = create_mcp(database)
    hits = answer(call(server, "search", {"collection": "docs", "id": "d4", "k": 3, "where": {"even": True}}))["hits"]
    assert hits[0] == {"id": "d4", "distance": 0.0, "metadata": {"n": 4, "even": True}}
    assert len(hits) == 3 and all(hit["metadata"]["even"] for hit in hits)
    by_string = answer(call(server, "search", {"collection": "docs", "id": "d4", "k": 3, "where": "n < 10"}))["hits"]
    assert all(hit["metadata"]["n"] < 10 for hit in by_string)


def test_get_by_ids_and_by_filter(database):
    server = create_mcp(database)
    records = answer(call(server, "get", {"collection": "docs", "ids": ["d1", "nope"]}))["records"]
    assert records == [{"id": "d1", "metadata": {"n": 1, "even": False}}, None]
    with_vector = answer(call(server, "get", {"collection": "docs", "ids": ["d1"], "include_vectors": True}))
    stored = database.collection("docs").get(["d1"])[0].vector
    assert with_vector["records"][0]["vector"] == pytest.approx(stored.tolist())
    filtered = answer(call(server, "get", {"collection": "docs", "where": {"n": {"$lt": 5}}, "limit": 3}))["records"]
    assert [record["id"] for record in filtered] == ["d0", "d1", "d2"]


def test_add_creates_a_collection_and_upserts(database):
    server = create_mcp(database)
    stored = answer(call(server, "add", {"collection": "notes", "ids": ["a", "b"], "vectors": [[1, 0], [0, 1]],
                                         "metadata": [{"t": "x"}, {"t": "y"}], "metric": "l2"}))
    assert stored == {"stored": 2, "created_collection": True, "size": 2}
    notes = database.collection("notes")
    assert (notes.dim, notes.metric) == (2, "l2")
    assert "DuplicateIdError" in error_text(call(server, "add", {"collection": "notes", "ids": ["a"],
                                                                 "vectors": [[5, 5]]}))
    assert answer(call(server, "add", {"collection": "notes", "ids": ["a"], "vectors": [[5, 5]], "upsert": True}))[
        "size"] == 2
    assert notes.get(["a"])[0].vector.tolist() == [5.0, 5.0]


def test_errors_name_their_class_and_write_nothing(database):
    server = create_mcp(database)
    wrong_dim = call(server, "add", {"collection": "docs", "ids": ["x", "y"], "vectors": [[1, 2], [3, 4]]})
    assert "DimensionError" in error_text(wrong_dim)
    assert len(database.collection("docs")) == 100  # the batch is all or nothing
    assert "NotFoundError" in error_text(call(server, "search", {"collection": "nope", "vector": [1, 2, 3, 4]}))
    assert "docs" in error_text(call(server, "get", {"collection": "nope", "ids": ["a"]}))
    assert "exactly one" in error_text(call(server, "search", {"collection": "docs"}))
    assert "NotFoundError" in error_text(call(server, "search", {"collection": "docs", "id": "missing"}))
    assert "FilterError" in error_text(call(server, "search", {"collection": "docs", "vector": [1, 2, 3, 4],
                                                               "where": "n >>> 3"}))
    assert "k must be" in error_text(call(server, "search", {"collection": "docs", "vector": [1, 2, 3, 4], "k": 0}))


def test_a_read_only_database_has_no_add_tool(database, tmp_path):
    database.checkpoint()
    with omendb.open(tmp_path / "db", read_only=True) as reader:
        server = create_mcp(reader)

        async def run():
            async with Client(server) as client:
                return [tool.name for tool in (await client.list_tools()).tools]

        assert "add" not in anyio.run(run)
        assert answer(call(server, "get", {"collection": "docs", "ids": ["d0"]}))["records"][0]["id"] == "d0"


def test_serve_mcp_refuses_an_unknown_transport(tmp_path):
    with pytest.raises(omendb.InvalidArgumentError, match="transport"):
        serve_mcp(tmp_path / "db", transport="carrier-pigeon")
    assert not (tmp_path / "db").exists()  # checked before anything is opened


def test_the_omendb_mcp_command_serves_over_stdio(database, tmp_path):
    """`omendb mcp PATH --read-only`, started by an MCP client as MCP clients start servers (a
    child process speaking over its stdin and stdout), answers a search."""
    pytest.importorskip("click", reason="the CLI needs click: pip install 'omendb[cli]'")
    import sys

    from mcp.client.stdio import StdioServerParameters

    parameters = StdioServerParameters(command=sys.executable,
                                       args=["-m", "omendb", "mcp", str(tmp_path / "db"), "--read-only"])
    expected = database.collection("docs").search(np.ones(4, dtype=np.float32), k=3)
    result = answer(call(parameters, "search", {"collection": "docs", "vector": [1.0, 1.0, 1.0, 1.0], "k": 3}))
    assert [hit["id"] for hit in result["hits"]] == [hit.id for hit in expected]
