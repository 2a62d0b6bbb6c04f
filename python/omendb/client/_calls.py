"""The HTTP request of each engine call and the decoding of its answer, shared by the sync and the
async client. Building a call also checks what JSON cannot carry faithfully (a bytes id, a set in
metadata, an int key), raising the engine's own error and message for it; everything JSON does
carry is checked by the server, with the same messages as an embedded call."""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence
from urllib.parse import quote

import numpy as np

from .._errors import FilterError, InvalidArgumentError, NotSupportedError
from ..server import codec
from ._records import Hit, Record

# Decoded frames from a server are bounded by its limits; these only guard against nonsense.
_MAX_FRAME_ROWS = 1 << 31
_MAX_FRAME_COLS = 1 << 31


@dataclass
class Call:
    """One HTTP request and how to decode its successful answer.

    idempotent: whether sending it twice has the effect and answer of sending it once (then it
    is retried after a lost connection). collection: the collection it acts on, if any (a
    missing one then raises ClosedError, as a dropped collection's handle does)."""

    method: str
    path: str
    decode: Callable[[bytes, str], Any]
    content: bytes = b""
    content_type: str = codec.JSON_TYPE
    accept: str = codec.JSON_TYPE
    idempotent: bool = True
    collection: Optional[str] = None
    headers: dict = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"content-type": self.content_type, "accept": self.accept}


def quote_name(name: str) -> str:
    """A collection name as one path segment: every reserved character and every dot
    percent-encoded, so that no name ("..", "a/b") can change the path's meaning."""
    return quote(name, safe="").replace(".", "%2E")


def _field(name: str) -> Callable[[bytes, str], Any]:
    """A decoder returning one field of a JSON answer."""
    return lambda body, _: json.loads(body)[name]


def _ignore(body: bytes, content_type: str) -> None:
    return None


def _hits(body: bytes, content_type: str) -> list:
    answer = json.loads(body)
    count = len(answer["ids"])
    scores = answer.get("scores") or [None] * count
    documents = answer.get("documents") or [None] * count
    return [Hit(*hit) for hit in zip(answer["ids"], answer["distances"], answer["metadata"], scores, documents)]


def _records(body: bytes, content_type: str) -> list:
    header, matrix = codec.decode_frame(body, _MAX_FRAME_ROWS, _MAX_FRAME_COLS)
    vectors = iter(np.array(matrix, dtype=np.float32))  # one writable copy; each record holds a row of it
    metadata = iter(header["metadata"])
    documents = iter(header.get("documents") or [None] * len(header["metadata"]))
    return [None if record_id is None else Record(record_id, next(vectors), next(metadata), next(documents))
            for record_id in header["ids"]]


def _hit_lists(body: bytes, content_type: str) -> list:
    """A batch reply as one list of hits per query (score = -distance; padding dropped)."""
    ids, distances = _batch(body, content_type)
    return [[Hit(str(i), float(d), {}) for i, d in zip(row_ids, row) if i != ""]
            for row_ids, row in zip(ids, distances)]


def _batch(body: bytes, content_type: str) -> tuple[np.ndarray, np.ndarray]:
    header, distances = codec.decode_frame(body, _MAX_FRAME_ROWS, _MAX_FRAME_COLS)
    ids = np.array(header["ids"], dtype=str).reshape(distances.shape)
    return ids, np.array(distances, dtype=np.float32)


def json_ids(ids: Any) -> list:
    """``ids`` as a JSON list; InvalidArgumentError (the engine's message) for a non-str id."""
    ids = list(ids)
    for index, value in enumerate(ids):
        if not isinstance(value, str):
            raise InvalidArgumentError(f"ids[{index}] must be a str, got {type(value).__name__}")
    return ids


def json_metadata(metadata: Optional[list]) -> Optional[list]:
    """``metadata`` (None or one dict per record), refusing with the engine's messages what JSON
    cannot carry: a non-dict entry, a non-str key, a value other than None, bool, int, float,
    str or a list of str."""
    if metadata is None:
        return None
    for index, entry in enumerate(metadata):
        if not isinstance(entry, dict):
            raise InvalidArgumentError(f"metadata[{index}] must be a dict, got {type(entry).__name__}")
        for key, value in entry.items():
            if not isinstance(key, str):
                raise InvalidArgumentError(
                    f"metadata[{index}] has a key of type {type(key).__name__}; keys must be str"
                )
            if isinstance(value, (list, tuple)):
                for position, item in enumerate(value):
                    if not isinstance(item, str):
                        raise InvalidArgumentError(
                            f"metadata[{index}][{key!r}][{position}] must be a str (lists may hold only strings), "
                            f"got {type(item).__name__}"
                        )
            elif value is not None and not isinstance(value, (bool, int, float, str)):
                raise InvalidArgumentError(
                    f"metadata[{index}][{key!r}] has unsupported type {type(value).__name__}; "
                    "expected None, bool, int, float, str or a list of str"
                )
    return list(metadata)


def json_where(where: Any) -> Any:
    """``where`` (None, a str or a dict) checked for what JSON cannot carry, with the engine's
    FilterError messages; its meaning is checked by the server's engine."""
    if where is None or isinstance(where, str):
        return where
    if not isinstance(where, dict):
        raise FilterError(f"where must be a dict or a str, got {type(where).__name__}")
    _check_filter_value(where)
    return where


def _check_filter_value(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FilterError(f"filter keys must be str, got {type(key).__name__}")
            _check_filter_value(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_filter_value(item)
    elif value is not None and not isinstance(value, (bool, int, float, str)):
        raise FilterError(
            f"filter holds a value of unsupported type {type(value).__name__}; "
            "expected None, bool, int, float, str, list or dict"
        )


def text_settings_of(info: dict) -> tuple:
    """A collection's text settings from its info (null: no text) as the engine gives them:
    (enabled, stemmer, stop words, k1, b)."""
    text = info.get("text")
    if text is None:
        return (False, "", [], 1.2, 0.75)
    return (True, text["stemmer"] or "", text["stop_words"], text["k1"], text["b"])


def single_vector(fields: list) -> np.ndarray:
    """The query of the one vector field of a served collection; NotSupportedError for others."""
    if len(fields) != 1 or fields[0][0] not in ("", "default"):
        raise NotSupportedError("named vector fields are not available over HTTP yet")
    return fields[0][1]


def json_fusion(fusion: tuple, vector_signals: int) -> dict:
    """The engine's fusion settings (kind, rrf_k, weights, candidates) as a search body's fusion:
    weights named "vector" and "text" by their signals' order."""
    kind, rrf_k, weights, candidates = fusion
    body: dict = {"kind": kind, "k": rrf_k, "candidates": candidates or None}
    if weights:
        names = ["vector"] * vector_signals + ["text"]
        body["weights"] = dict(zip(names, weights))
    return body


def _batch_reply(body: bytes, content_type: str) -> tuple[np.ndarray, np.ndarray]:
    """A JSON batch reply (ids and distances as lists, padding null) as Collection.search_batch's arrays."""
    answer = json.loads(body)
    ids = np.array(answer["ids"], dtype=str)
    distances = np.array([[np.inf if d is None else d for d in row] for row in answer["distances"]], np.float32)
    return ids, distances.reshape(ids.shape)


def json_int(value: Any, what: str) -> Any:
    """A NumPy or other integral ``value`` as an int, so JSON carries it; other JSON values pass
    unchanged (the server's check names them); anything else raises InvalidArgumentError."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (bool, float, str)):
        return value
    raise InvalidArgumentError(f"{what} must be an int, got {type(value).__name__}")


class DatabaseCalls:
    """The calls on a database."""

    @staticmethod
    def info() -> Call:
        return Call("GET", "/v1/info", lambda body, _: json.loads(body))

    @staticmethod
    def collection_names() -> Call:
        return Call("GET", "/v1/collections", _field("collections"))

    @staticmethod
    def get_collection(name: str) -> Call:
        return Call("GET", "/v1/collections/" + quote_name(name), lambda body, _: json.loads(body))

    @staticmethod
    def open_collection(name: str, dim: Any, metric: Any, m: Any, ef_construction: Any, quantization: Any,
                        text: Optional[tuple] = None) -> Call:
        """Get or create, with the checks of Database.collection run by the server. ``text``: the
        engine's text settings (stemmer, stop words, k1, b), or None."""
        body = {"name": name, "dim": json_int(dim, "dim"), "metric": metric, "m": json_int(m, "m"),
                "ef_construction": json_int(ef_construction, "ef_construction"), "quantization": quantization}
        if text is not None:
            stemmer, stop_words, k1, b = text
            body["text"] = {"stemmer": stemmer or None, "stop_words": list(stop_words), "k1": k1, "b": b}
        return Call("POST", "/v1/collections", lambda raw, _: json.loads(raw), codec.encode_json(body))

    @staticmethod
    def drop_collection(name: str) -> Call:
        return Call("DELETE", "/v1/collections/" + quote_name(name), _ignore, idempotent=False)

    @staticmethod
    def checkpoint() -> Call:
        return Call("POST", "/v1/checkpoint", _ignore)

    @staticmethod
    def refresh() -> Call:
        return Call("POST", "/v1/refresh", _ignore)


class CollectionCalls:
    """The calls on one collection: one method per method of the engine's collection, taking the
    arguments omendb.Collection passes it (already checked and converted)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._prefix = "/v1/collections/" + quote_name(name) + "/"

    def _json(self, action: str, body: dict, decode, idempotent: bool = True) -> Call:
        return Call("POST", self._prefix + action, decode, codec.encode_json(body),
                    idempotent=idempotent, collection=self.name)

    def _frame(self, action: str, header: dict, matrix: np.ndarray, decode, idempotent: bool = True,
               accept: str = codec.JSON_TYPE) -> Call:
        return Call("POST", self._prefix + action, decode, codec.encode_frame(header, matrix), codec.FRAME_TYPE,
                    accept, idempotent, self.name)

    def info(self) -> Call:
        return Call("GET", "/v1/collections/" + quote_name(self.name), lambda body, _: json.loads(body),
                    collection=self.name)

    def add(self, ids, matrix: np.ndarray, metadata, documents=None) -> Call:
        header = {"ids": json_ids(ids), "metadata": json_metadata(metadata)}
        if documents is not None:
            header["documents"] = list(documents)
        return self._frame("add", header, matrix, _ignore, idempotent=False)

    def upsert(self, ids, matrix: np.ndarray, metadata, documents=None) -> Call:
        header = {"ids": json_ids(ids), "metadata": json_metadata(metadata)}
        if documents is not None:
            header["documents"] = list(documents)
        return self._frame("upsert", header, matrix, _ignore)

    def delete(self, ids) -> Call:
        return self._json("delete", {"ids": json_ids(ids)}, _field("deleted"), idempotent=False)

    def delete_where(self, where) -> Call:
        return self._json("delete", {"where": json_where(where)}, _field("deleted"), idempotent=False)

    def get(self, ids) -> Call:
        return Call("POST", self._prefix + "get", _records, codec.encode_json({"ids": json_ids(ids)}),
                    accept=codec.FRAME_TYPE, collection=self.name)

    def find(self, where, limit: int) -> Call:
        body = codec.encode_json({"where": json_where(where), "limit": limit})
        return Call("POST", self._prefix + "get", _records, body, accept=codec.FRAME_TYPE, collection=self.name)

    def count(self, where) -> Call:
        return self._json("count", {"where": json_where(where)}, _field("count"))

    def search(self, query: np.ndarray, k: int, ef: int, exact: bool, where) -> Call:
        header = {"k": k, "ef": ef or None, "exact": exact, "where": json_where(where)}
        return self._frame("search", header, query.reshape(1, -1), _hits)

    def search_batch(self, queries: np.ndarray, k: int, ef: int, exact: bool, where) -> Call:
        header = {"k": k, "ef": ef or None, "exact": exact, "where": json_where(where)}
        return self._frame("search_batch", header, queries, _batch, accept=codec.FRAME_TYPE)

    def search_text(self, text: str, k: int, where) -> Call:
        return self._json("search", {"text": text, "k": k, "where": json_where(where)}, _hits)

    def search_hybrid(self, vectors: list, text: str, k: int, ef: int, exact: bool, where, fusion: tuple,
                      sparse: Sequence = ()) -> Call:
        """A hybrid search of the collection's one vector field (a served collection has one and
        no sparse field, so ``sparse`` is always empty)."""
        header = {"k": k, "ef": ef or None, "exact": exact, "where": json_where(where),
                  "fusion": json_fusion(fusion, len(vectors))}
        if text:
            header["text"] = text
        if not vectors:
            return self._json("search", header, _hits)
        return self._frame("search", header, single_vector(vectors).reshape(1, -1), _hits)

    def search_hybrid_batch(self, queries: list, k: int, ef: int, exact: bool, where, fusion: tuple) -> Call:
        """The hybrid queries' (ids, distances) arrays; Collection.search_batch's answer."""
        texts = [text for _, _, text in queries]
        vectors = [single_vector(fields) for fields, _, _ in queries if fields]
        header = {"k": k, "ef": ef or None, "exact": exact, "where": json_where(where),
                  "fusion": json_fusion(fusion, 1 if vectors else 0)}
        if any(texts):
            header["text"] = texts
        if not vectors:
            return self._json("search_batch", header, _batch_reply)
        return self._frame("search_batch", header, np.stack(vectors), _batch, accept=codec.FRAME_TYPE)

    def compact(self) -> Call:
        return self._json("compact", {}, _field("reclaimed"), idempotent=False)
