"""The async client: AsyncDatabase and AsyncCollection, whose methods are coroutines with the
arguments, checks, messages and return values of the embedded ones.

The argument checks are the embedded API's own: each call first runs the ``omendb.Collection``
method over a _Planner, a stand-in engine that records the HTTP call the method would make
instead of making it; the recorded call is then sent without blocking the event loop.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from .._api import Collection, Filter
from .._arguments import _check_name, _text_settings
from .._errors import ClosedError, InvalidArgumentError
from .._vector_fields import DEFAULT_FIELD
from ._calls import Call, CollectionCalls, DatabaseCalls, text_settings_of
from ._transport import AsyncTransport

# What the planner returns where Collection goes on to use an engine's answer.
_PLACEHOLDERS = {"search_batch": (np.zeros((0, 0, 1), np.uint32), np.zeros((0, 0), np.float32)),
                 "search_hybrid_batch": []}


class _Planner:
    """Stands in for ``_core.Collection`` under ``omendb.Collection``: each method records the Call
    that would carry it (in ``.call``) and returns a placeholder."""

    def __init__(self, calls: CollectionCalls, info: dict) -> None:
        self._calls = calls
        self.name, self.dim, self.metric, self.quantization = info["name"], info["dim"], info["metric"], \
            info["quantization"]
        self.closed = False
        self.call: Optional[Call] = None
        self.vector_fields = [(DEFAULT_FIELD, info["dim"], info["metric"], info["m"],
                               info["ef_construction"], info["quantization"])]
        self.text = text_settings_of(info)
        self.sparse_fields: list = []  # a served collection has none (embedded-only)

    @staticmethod
    def search_fast(*arguments) -> None:
        return None

    def __getattr__(self, method: str) -> Callable:
        build = getattr(self._calls, method)

        def record(*arguments, **named):
            self.call = build(*arguments, **named)
            return _PLACEHOLDERS.get(method)

        return record


class AsyncCollection:
    """A collection of a server, with coroutine methods. ``len()`` needs a round trip, so it is
    ``await collection.count()`` here."""

    def __init__(self, database: "AsyncDatabase", info: dict) -> None:
        self._database = database
        self._info = info
        self._calls = CollectionCalls(info["name"])

    name = property(lambda self: self._info["name"])
    dim = property(lambda self: self._info["dim"])
    metric = property(lambda self: self._info["metric"])
    quantization = property(lambda self: self._info["quantization"], doc='"sq8" or "none".')
    m = property(lambda self: self._info["m"], doc="The graph's links per node, fixed at creation.")
    ef_construction = property(lambda self: self._info["ef_construction"], doc="Candidates per insert's link choice.")

    async def _run(self, method: Callable[[Collection], Any]) -> Any:
        """Check the arguments as ``method`` does on an embedded collection, then send its call."""
        if self._database.closed:
            raise ClosedError(f"collection {self.name!r} is closed")
        planner = _Planner(self._calls, self._info)
        method(Collection(planner))
        return await self._database.send(planner.call)

    async def add(self, ids, vectors, metadata=None, documents=None) -> None:
        """As ``Collection.add``: insert records, all or none."""
        await self._run(lambda c: c.add(ids, vectors, metadata, documents))

    async def upsert(self, ids, vectors, metadata=None, documents=None) -> None:
        """As ``Collection.upsert``: insert or replace records, all or none."""
        await self._run(lambda c: c.upsert(ids, vectors, metadata, documents))

    async def delete(self, ids=None, *, where: Filter = None) -> int:
        """As ``Collection.delete``: how many records were deleted."""
        return await self._run(lambda c: c.delete(ids, where=where))

    async def get(self, ids=None, *, where: Filter = None, limit: Optional[int] = None) -> list:
        """As ``Collection.get``: records (or None per missing id)."""
        return await self._run(lambda c: c.get(ids, where=where, limit=limit))

    async def count(self, where: Filter = None) -> int:
        """As ``Collection.count``."""
        return await self._run(lambda c: c.count(where))

    async def search(self, vector=None, k: int = 10, ef: Optional[int] = None, exact: bool = False,
                     where: Filter = None, *, text: Optional[str] = None, fusion: Any = None) -> list:
        """As ``Collection.search``: the k best hits (nearest, BM25 or fused), best first."""
        return await self._run(lambda c: c.search(vector, k, ef, exact, where, text=text, fusion=fusion))

    async def search_batch(self, vectors=None, k: int = 10, ef: Optional[int] = None, exact: bool = False,
                           where: Filter = None, *, text: Optional[list] = None, fusion: Any = None) -> tuple:
        """As ``Collection.search_batch``: (ids, distances) arrays of shape (n, k)."""
        return await self._run(lambda c: c.search_batch(vectors, k, ef, exact, where, text=text, fusion=fusion))

    async def compact(self) -> int:
        """As ``Collection.compact``: slots reclaimed."""
        return await self._run(lambda c: c.compact())

    def __repr__(self) -> str:
        return f"<omendb.client.AsyncCollection {self.name!r} dim={self.dim} metric={self.metric}>"


class AsyncDatabase:
    """A database served over HTTP, with coroutine methods; from ``omendb.connect(url,
    asynchronous=True)``. Use ``async with`` or ``await db.close()``."""

    def __init__(self, url: str, api_key: Optional[str], timeout: float, retries: int) -> None:
        self.path = url
        self.closed = False
        self._transport = AsyncTransport(url, api_key, timeout, retries)

    async def send(self, call: Call) -> Any:
        """The decoded answer of ``call``; ClosedError once the handle is closed."""
        if self.closed:
            raise ClosedError(f"database {self.path!r} is closed")
        return await self._transport.send(call)

    async def collection(self, name: str, dim: Optional[int] = None, metric: Optional[str] = None, m: int = 16,
                         ef_construction: int = 100, quantization: Optional[str] = None, *,
                         text: Any = None) -> AsyncCollection:
        """As ``Database.collection``: get the collection, creating it when dim is given (one round
        trip; the server runs the embedded checks). text: as there (True or an omendb.TextField)."""
        _check_name(name)
        for value, what in ((metric, "metric"), (quantization, "quantization")):
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError(f"{what} must be a str, got {type(value).__name__}")
        call = DatabaseCalls.open_collection(name, dim, metric, m, ef_construction, quantization,
                                             _text_settings(text))
        info = await self.send(call)
        return AsyncCollection(self, info)

    async def collections(self) -> list:
        """Names of all collections, sorted."""
        return await self.send(DatabaseCalls.collection_names())

    async def drop_collection(self, name: str) -> None:
        """Delete a collection."""
        _check_name(name)
        await self.send(DatabaseCalls.drop_collection(name))

    async def checkpoint(self) -> None:
        """Checkpoint the server's database."""
        await self.send(DatabaseCalls.checkpoint())

    async def refresh(self) -> None:
        """A no-op: the server holds the writer."""
        await self.send(DatabaseCalls.refresh())

    async def close(self) -> None:
        """Close the connections (the server goes on). Idempotent."""
        if not self.closed:
            self.closed = True
            await self._transport.close()

    async def __aenter__(self) -> "AsyncDatabase":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<omendb.client.AsyncDatabase {self.path!r} ({'closed' if self.closed else 'open'})>"
