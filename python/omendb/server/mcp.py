"""OmenDB as Model Context Protocol tools: ``serve_mcp(path)`` serves a database to an MCP client
(an LLM agent) over stdio; ``create_mcp(database)`` builds the server object (for tests, or to run
it another way).

Tools: ``list_collections``, ``search`` (by a vector, or by the id of a stored record: "more like
this"), ``get`` (by ids or by a filter) and, unless the database is read-only, ``add``. Answers
are JSON objects; vectors are lists of numbers and are left out of ``get``'s answer unless asked
for (they are long and mean nothing to a language model). An omendb error becomes a tool error
whose message names its class (``DimensionError: ...``), so the agent can correct its call.

Requires the ``mcp`` package (version 2: ``pip install "mcp>=2"``); ``import omendb`` does not.
"""

from __future__ import annotations

import os
from typing import Any, Union

from .._api import Database
from .._api import open as open_database
from .._errors import Error, InvalidArgumentError, NotFoundError

Filter = Union[dict, str, None]
MAX_K = 1000
TRANSPORTS = ("stdio", "sse", "streamable-http")


def serve_mcp(path: str | os.PathLike, *, transport: str = "stdio", read_only: bool = False) -> None:
    """Open the database at ``path`` and serve it as MCP tools over ``transport`` ("stdio", the
    default, as MCP clients launch servers; or "sse" / "streamable-http" on the MCP SDK's default
    host and port) until the client disconnects (stdin closes) or the process is interrupted; then
    close the database (a final checkpoint for a writer).

    read_only: open without the write lock (no ``add`` tool), beside a running writer. Raises
    InvalidArgumentError for an unknown transport, LockedError when another process writes the
    database, ImportError (naming the package) without ``mcp``. Nothing is written to stdout but
    the protocol.
    """
    if transport not in TRANSPORTS:
        raise InvalidArgumentError(f"transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}")
    database = open_database(path, read_only=read_only)
    try:
        create_mcp(database).run(transport)
    finally:
        database.close()


def create_mcp(database: Database, name: str = "omendb"):
    """An ``mcp.server.mcpserver.MCPServer`` whose tools call ``database`` (which stays the
    caller's to close). Cost: registering four tools; nothing is read. Tools run in worker
    threads (the MCP SDK runs plain functions so), and the engine releases the GIL."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as error:
        raise ImportError(f'the MCP server needs the mcp package, version 2: pip install "mcp>=2" ({error})') from None

    server = MCPServer(name, instructions=(
        "An OmenDB vector database. Collections hold records: a string id, a float vector of the "
        "collection's dimension, and a JSON metadata object. Filters (where) are JSON objects like "
        '{"year": {"$gte": 2020}, "lang": "en"} or strings like "year >= 2020 AND lang = \'en\'".'))

    def call(work):
        """``work()``, with an omendb error turned into a tool error naming its class."""
        try:
            return work()
        except Error as error:
            raise ToolError(f"{type(error).__name__}: {error}") from None

    @server.tool(structured_output=True)
    def list_collections() -> dict[str, Any]:
        """The database's collections: name, dimension, metric and number of records of each."""
        return call(lambda: {"collections": [_info(database, each) for each in database.collections()]})

    @server.tool(structured_output=True)
    def search(collection: str, vector: list[float] | None = None, id: str | None = None, k: int = 10,
               where: Filter = None) -> dict[str, Any]:
        """The k records nearest to a query, best first: give either vector (a list of numbers of
        the collection's dimension) or id (a stored record's id: records like it; the record itself
        comes first). where: a metadata filter. Returns hits with id, distance (smaller is closer)
        and metadata."""
        return call(lambda: _search(_collection(database, collection), vector, id, k, where))

    @server.tool(structured_output=True)
    def get(collection: str, ids: list[str] | None = None, where: Filter = None, limit: int = 10,
            include_vectors: bool = False) -> dict[str, Any]:
        """Records by ids (one entry per id, in order, null where there is none) or by a metadata
        filter (where; at most limit, oldest first): id and metadata, and the vector when
        include_vectors is true."""
        def fetch() -> dict[str, Any]:
            chosen = _collection(database, collection)
            records = chosen.get(ids) if where is None else chosen.get(where=where, limit=limit)
            return {"records": [None if record is None else _record(record, include_vectors) for record in records]}

        return call(fetch)

    if not database.read_only:
        @server.tool(structured_output=True)
        def add(collection: str, ids: list[str], vectors: list[list[float]], metadata: list[dict] | None = None,
                upsert: bool = False, metric: str = "cosine") -> dict[str, Any]:
            """Store records: ids, their vectors (one list of numbers each) and optionally one
            metadata object each. The batch is stored whole or not at all. An id that exists is an
            error unless upsert is true (then it is replaced). A missing collection is created with
            the vectors' dimension and metric ("cosine", "l2" or "ip")."""
            def store() -> dict[str, Any]:
                created = collection not in database.collections()
                if created:
                    dim = len(vectors[0]) if vectors else None
                    chosen = database.collection(collection, dim=dim, metric=metric)
                else:
                    chosen = database.collection(collection)
                (chosen.upsert if upsert else chosen.add)(ids, vectors, metadata)
                return {"stored": len(ids), "created_collection": created, "size": len(chosen)}

            return call(store)

    return server


def _collection(database: Database, name: str):
    """The existing collection ``name``; NotFoundError naming the ones there are."""
    if name not in database.collections():
        raise NotFoundError(f"no collection {name!r}; the collections are {database.collections()}")
    return database.collection(name)


def _info(database: Database, name: str) -> dict[str, Any]:
    collection = database.collection(name)
    return {"name": name, "dim": collection.dim, "metric": collection.metric, "size": len(collection)}


def _search(collection, vector: list[float] | None, id: str | None, k: int, where: Filter) -> dict[str, Any]:
    if (vector is None) == (id is None):
        raise InvalidArgumentError("search takes vector or id, exactly one of them")
    if not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidArgumentError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")
    if id is not None:
        record = collection.get([id])[0]
        if record is None:
            raise NotFoundError(f"no record with id {id!r} in collection {collection.name!r}")
        vector = record.vector
    hits = collection.search(vector, k=k, where=where)
    return {"hits": [{"id": hit.id, "distance": float(hit.distance), "metadata": hit.metadata} for hit in hits]}


def _record(record, include_vector: bool) -> dict[str, Any]:
    answer = {"id": record.id, "metadata": record.metadata}
    if include_vector:
        answer["vector"] = [float(x) for x in record.vector]
    return answer
