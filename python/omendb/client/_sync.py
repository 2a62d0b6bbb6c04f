"""The sync client: stand-ins for the engine's database and collection that send each call to a
server. ``omendb.Database`` and ``omendb.Collection`` wrap them as they wrap the engine, so a remote
database has the embedded API's methods, argument checks, messages and return types."""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence

import numpy as np

from .._errors import ClosedError, NotSupportedError
from .._vector_fields import DEFAULT_FIELD
from ._calls import Call, CollectionCalls, DatabaseCalls, text_settings_of
from ._records import Hit
from ._transport import SyncTransport


class RemoteDatabaseEngine:
    """The methods of ``_core.Database`` that ``omendb.Database`` calls, sent to a server."""

    def __init__(self, transport: SyncTransport) -> None:
        self.transport = transport
        self.closed = False
        self.read_only = bool(self.send(DatabaseCalls.info())["read_only"])

    def send(self, call: Call) -> Any:
        """The decoded answer of ``call`` (one HTTP round trip)."""
        return self.transport.send(call)

    def get_collection(self, name: str) -> "RemoteCollectionEngine":
        return RemoteCollectionEngine(self, self.send(DatabaseCalls.get_collection(name)))

    def create_collection(self, name: str, dim: int, metric: str, m: int, ef_construction: int,
                          quantization: str, vector_name: str = DEFAULT_FIELD,
                          more_vectors: tuple = (), text: Optional[tuple] = None,
                          sparse_vectors: Sequence = ()) -> "RemoteCollectionEngine":
        if more_vectors or sparse_vectors or vector_name != DEFAULT_FIELD:
            raise NotSupportedError(
                "named vector fields are not available over HTTP yet: create the collection "
                "embedded (omendb.open) on the server's machine")
        call = DatabaseCalls.open_collection(name, dim, metric, m, ef_construction, quantization, text)
        return RemoteCollectionEngine(self, self.send(call))

    def collection_names(self) -> list:
        return self.send(DatabaseCalls.collection_names())

    def drop_collection(self, name: str) -> None:
        self.send(DatabaseCalls.drop_collection(name))

    def checkpoint(self) -> None:
        self.send(DatabaseCalls.checkpoint())

    def refresh(self) -> None:
        self.send(DatabaseCalls.refresh())

    def backup(self, path: str | os.PathLike) -> None:
        raise NotSupportedError(
            "backup() is not available over HTTP (it writes a folder on the server's machine): run "
            "omendb.open(path, read_only=True).backup(target) there"
        )

    def close(self) -> None:
        """Close the connections; the server and its database go on."""
        if not self.closed:
            self.closed = True
            self.transport.close()


class RemoteCollectionEngine:
    """The methods of ``_core.Collection`` that ``omendb.Collection`` calls, sent to a server."""

    def __init__(self, database: RemoteDatabaseEngine, info: dict) -> None:
        self._database = database
        self.name, self.dim, self.metric, self.quantization = info["name"], info["dim"], info["metric"], \
            info["quantization"]
        self.m, self.ef_construction = info["m"], info["ef_construction"]
        self.text = text_settings_of(info)
        self._calls = CollectionCalls(self.name)

    @property
    def vector_fields(self) -> list:
        """The one vector field of a collection served over HTTP, as the engine describes it."""
        return [(DEFAULT_FIELD, self.dim, self.metric, self.m, self.ef_construction, self.quantization)]

    sparse_fields: list = []  # a served collection has none (sparse fields are embedded-only)

    @staticmethod
    def tokenize(text: str) -> list:
        raise NotSupportedError("tokenize() is not available over HTTP: it runs the server's analyzer")

    def search_text(self, text: str, k: int, where) -> list:
        return self._send(self._calls.search_text(text, k, where))

    def search_hybrid(self, vectors: list, text: str, k: int, ef: int, exact: bool, where, fusion: tuple,
                      sparse: Sequence = ()) -> list:
        return self._send(self._calls.search_hybrid(vectors, text, k, ef, exact, where, fusion, sparse))

    def search_hybrid_batch(self, queries: list, k: int, ef: int, exact: bool, where, fusion: tuple) -> list:
        """One list of hits per query (id and distance; Collection.search_batch reads no more)."""
        ids, distances = self._send(self._calls.search_hybrid_batch(queries, k, ef, exact, where, fusion))
        return [[Hit(str(i), float(d), {}) for i, d in zip(row_ids, row) if i != ""]
                for row_ids, row in zip(ids, distances)]

    @property
    def closed(self) -> bool:
        """Whether the database handle was closed (a dropped collection shows on the next call)."""
        return self._database.closed

    def _send(self, call: Call) -> Any:
        if self._database.closed:
            raise ClosedError(f"collection {self.name!r} is closed")
        return self._database.send(call)

    def __len__(self) -> int:
        return self._send(self._calls.info())["size"]

    def add(self, ids, matrix, metadata, documents=None) -> None:
        self._send(self._calls.add(ids, matrix, metadata, documents))

    def upsert(self, ids, matrix, metadata, documents=None) -> None:
        self._send(self._calls.upsert(ids, matrix, metadata, documents))

    def delete(self, ids) -> int:
        return self._send(self._calls.delete(ids))

    def delete_where(self, where) -> int:
        return self._send(self._calls.delete_where(where))

    def get(self, ids) -> list:
        return self._send(self._calls.get(ids))

    def find(self, where, limit: int) -> list:
        return self._send(self._calls.find(where, limit))

    def count(self, where) -> int:
        return self._send(self._calls.count(where))

    def compact(self) -> int:
        return self._send(self._calls.compact())

    @staticmethod
    def search_fast(vector, k, ef, exact, where) -> None:
        """No fast path over HTTP: Collection.search converts and checks, then calls search()."""
        return None

    def search(self, query: np.ndarray, k: int, ef: int, exact: bool, where) -> list:
        return self._send(self._calls.search(query, k, ef, exact, where))

    def search_batch(self, queries: np.ndarray, k: int, ef: int, exact: bool, where) -> tuple:
        """(code points of shape (n, k, width), distances): the engine's form of the str ids."""
        ids, distances = self._send(self._calls.search_batch(queries, k, ef, exact, where))
        ids = np.ascontiguousarray(ids)
        width = max(ids.dtype.itemsize // 4, 1)
        return ids.view(np.uint32).reshape(ids.shape[0], ids.shape[1], width), distances


def connect(url: str, api_key: Optional[str], timeout: float, retries: int):
    """An omendb.Database served at ``url``; one round trip checks the server and the key."""
    from .._api import Database

    transport = SyncTransport(url, api_key, timeout, retries)
    try:
        return Database(RemoteDatabaseEngine(transport), url)
    except BaseException:
        transport.close()
        raise
