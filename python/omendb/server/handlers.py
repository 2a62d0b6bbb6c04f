"""What each endpoint does, apart from HTTP: parse a request body, check it, call the embedded API
(which checks the values and calls the engine) and encode the answer. Every function here blocks
and runs in a worker thread; none touches the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from .. import __version__
from .._api import Collection, Database
from .._hybrid import RRF, TextField, Weighted
from .._errors import InvalidArgumentError, NotFoundError
from . import codec
from .errors import CollectionMissing
from .limits import ENGINE_MAX_DIM, Limits, check_exact, check_k_ef, check_list, only_fields


@dataclass
class Parsed:
    """A decoded request body: its JSON fields, the frame's matrix (None for a JSON body) and
    whether the caller accepts a frame in reply."""

    fields: dict
    matrix: Optional[np.ndarray]
    wants_frame: bool


@dataclass
class Reply:
    """An encoded answer."""

    body: bytes
    media_type: str = codec.JSON_TYPE


def parse(body: bytes, content_type: str, accept: str, limits: Limits) -> Parsed:
    """The fields (and matrix) of a JSON or frame body; an empty body is an empty object.
    Raises InvalidArgumentError for an unknown content type or a malformed body."""
    media = content_type.split(";", 1)[0].strip().lower()
    wants_frame = codec.FRAME_TYPE in accept
    if media == codec.FRAME_TYPE:
        fields, matrix = codec.decode_frame(body, limits.max_batch, ENGINE_MAX_DIM)
        return Parsed(fields, matrix, wants_frame)
    if media not in ("", codec.JSON_TYPE):
        raise InvalidArgumentError(
            f"unsupported content type {media!r}: send {codec.JSON_TYPE} or {codec.FRAME_TYPE}"
        )
    return Parsed(codec.decode_json(body) if body else {}, None, wants_frame)


def json_reply(value: Any) -> Reply:
    """``value`` as a JSON reply."""
    return Reply(codec.encode_json(value))


def collection_of(database: Database, name: str) -> Collection:
    """The collection ``name``; CollectionMissing (404) when there is none."""
    try:
        return Collection(database._engine.get_collection(name))
    except NotFoundError as error:
        raise CollectionMissing(str(error)) from None


def info_of(collection: Collection) -> dict:
    """A collection's options (text: null, or its text settings) and size."""
    text = collection.text
    return {
        "name": collection.name,
        "dim": collection.dim,
        "metric": collection.metric,
        "quantization": collection.quantization,
        "m": collection.m,
        "ef_construction": collection.ef_construction,
        "text": None if text is None else {"stemmer": text.stemmer, "stop_words": list(text.stop_words or []),
                                           "k1": text.k1, "b": text.b},
        "size": len(collection),
    }


def _text_field(value: Any) -> Any:
    """The ``text`` of an open-collection body: null, false, true or {stemmer, stop_words, k1, b}."""
    if value is None or isinstance(value, bool):
        return value or None
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"text must be true or an object, got {type(value).__name__}")
    only_fields(value, ("stemmer", "stop_words", "k1", "b"), "text")
    return TextField(**value)


def _fusion(value: Any) -> Any:
    """The ``fusion`` of a search body: null, "rrf", "weighted" or {kind, k, weights, candidates}."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"fusion must be a str or an object, got {type(value).__name__}")
    only_fields(value, ("kind", "k", "weights", "candidates"), "fusion")
    kind = value.get("kind", "rrf")
    if kind == "rrf":
        return RRF(value.get("k", 60.0), value.get("candidates"))
    if kind == "weighted":
        return Weighted(value.get("weights") or {}, candidates=value.get("candidates"))
    raise InvalidArgumentError(f'fusion kind must be "rrf" or "weighted", got {kind!r}')


def server_info(database: Database, limits: Limits) -> Reply:
    """Version, whether the database is read-only, and this server's limits."""
    return json_reply({"version": __version__, "read_only": database.read_only, "limits": vars(limits)})


def list_collections(database: Database) -> Reply:
    """The names of all collections, sorted."""
    return json_reply({"collections": database.collections()})


def open_collection(database: Database, parsed: Parsed) -> Reply:
    """Get or create a collection: ``Database.collection`` with the body's fields, with its checks
    and messages (an existing collection must match dim, metric and quantization where given)."""
    fields = parsed.fields
    only_fields(fields, ("name", "dim", "metric", "m", "ef_construction", "quantization", "text"), "collection")
    options = {key: fields[key] for key in ("m", "ef_construction") if key in fields}
    collection = database.collection(
        fields.get("name"), fields.get("dim"), fields.get("metric"), quantization=fields.get("quantization"),
        text=_text_field(fields.get("text")), **options
    )
    return json_reply(info_of(collection))


def collection_info(database: Database, name: str) -> Reply:
    """A collection's name, dim, metric, quantization, m, ef_construction and size."""
    return json_reply(info_of(collection_of(database, name)))


def drop_collection(database: Database, name: str) -> Reply:
    """Delete a collection."""
    database.drop_collection(name)
    return json_reply({})


def _vectors(parsed: Parsed, limits: Limits) -> Any:
    """The ``vectors`` of a call: the frame's matrix, or the JSON field (at most max_batch rows)."""
    if parsed.matrix is not None:
        if "vectors" in parsed.fields:
            raise InvalidArgumentError("a frame carries the vectors in its matrix, not in the field 'vectors'")
        return parsed.matrix
    return check_list(parsed.fields, "vectors", limits)


def write(database: Database, name: str, parsed: Parsed, limits: Limits, replace: bool) -> Reply:
    """add (replace=False) or upsert (replace=True) the body's ids, vectors and metadata."""
    call = "upsert" if replace else "add"
    only_fields(parsed.fields, ("ids", "vectors", "metadata", "documents"), call)
    ids = check_list(parsed.fields, "ids", limits)
    metadata = check_list(parsed.fields, "metadata", limits)
    documents = check_list(parsed.fields, "documents", limits)
    vectors = _vectors(parsed, limits)
    collection = collection_of(database, name)
    getattr(collection, call)(ids, vectors, metadata, documents)
    return json_reply({})


def delete(database: Database, name: str, parsed: Parsed, limits: Limits) -> Reply:
    """Delete by ``ids`` or ``where``; answers how many were deleted."""
    only_fields(parsed.fields, ("ids", "where"), "delete")
    ids = check_list(parsed.fields, "ids", limits)
    deleted = collection_of(database, name).delete(ids, where=parsed.fields.get("where"))
    return json_reply({"deleted": deleted})


def get(database: Database, name: str, parsed: Parsed, limits: Limits) -> Reply:
    """Records by ``ids`` (null for a missing one) or by ``where`` and ``limit``. A frame reply
    holds ids and metadata in its header and the found records' vectors as the matrix; a JSON
    reply holds ``records``: objects with id, vector and metadata, or null."""
    only_fields(parsed.fields, ("ids", "where", "limit"), "get")
    ids = check_list(parsed.fields, "ids", limits)
    collection = collection_of(database, name)
    records = collection.get(ids, where=parsed.fields.get("where"), limit=parsed.fields.get("limit"))
    if not parsed.wants_frame:
        return json_reply(
            {
                "records": [
                    None if r is None else {"id": r.id, "vector": r.vector.tolist(), "metadata": r.metadata,
                                            "document": r.document}
                    for r in records
                ]
            }
        )
    found = [r for r in records if r is not None]
    matrix = np.stack([r.vector for r in found]) if found else np.empty((0, collection.dim), np.float32)
    header = {
        "ids": [None if r is None else r.id for r in records],
        "metadata": [r.metadata for r in found],
        "documents": [r.document for r in found],
    }
    return Reply(codec.encode_frame(header, matrix), codec.FRAME_TYPE)


def count(database: Database, name: str, parsed: Parsed) -> Reply:
    """How many records match ``where`` (all when absent)."""
    only_fields(parsed.fields, ("where",), "count")
    return json_reply({"count": collection_of(database, name).count(parsed.fields.get("where"))})


def _search_args(parsed: Parsed, limits: Limits, call: str, vector_field: str) -> dict:
    only_fields(parsed.fields, (vector_field, "k", "ef", "exact", "where", "text", "fusion"), call)
    check_k_ef(parsed.fields, limits)
    arguments = {
        "k": parsed.fields.get("k", 10),
        "ef": parsed.fields.get("ef"),
        "exact": check_exact(parsed.fields),
        "where": parsed.fields.get("where"),
    }
    if parsed.fields.get("text") is not None:
        arguments["text"] = parsed.fields["text"]
    if parsed.fields.get("fusion") is not None:
        arguments["fusion"] = _fusion(parsed.fields["fusion"])
    return arguments


def search(database: Database, name: str, parsed: Parsed, limits: Limits) -> Reply:
    """The k nearest records to ``vector``: parallel lists ids, distances and metadata, best first."""
    arguments = _search_args(parsed, limits, "search", "vector")
    if parsed.matrix is not None:
        if parsed.matrix.shape[0] != 1 or "vector" in parsed.fields:
            raise InvalidArgumentError(
                f"a search frame carries one query as its matrix, got {parsed.matrix.shape[0]} rows"
            )
        vector = parsed.matrix[0]
    else:
        vector = check_list(parsed.fields, "vector", limits)
    hits = collection_of(database, name).search(vector, **arguments)
    return json_reply(
        {
            "ids": [hit.id for hit in hits],
            "distances": [hit.distance for hit in hits],
            "metadata": [hit.metadata for hit in hits],
            "scores": [hit.score for hit in hits],
            "documents": [hit.document for hit in hits],
        }
    )


def search_batch(database: Database, name: str, parsed: Parsed, limits: Limits) -> Reply:
    """search for every row of ``vectors``. A frame reply holds the (n, k) ids in its header and the
    float32 distances as the matrix (padding: id "" and distance inf); a JSON reply holds ids and
    distances as nested lists, padding distances as null."""
    arguments = _search_args(parsed, limits, "search_batch", "vectors")
    vectors = _vectors(parsed, limits)
    texts = arguments.get("text")
    rows = len(vectors) if isinstance(vectors, (list, np.ndarray)) else len(texts) if isinstance(texts, list) else 0
    k = arguments["k"]
    if isinstance(k, int) and rows * k > limits.max_results:
        raise InvalidArgumentError(
            f"search_batch of {rows} queries with k={k} would return {rows * k} results; "
            f"this server returns at most {limits.max_results} per call"
        )
    ids, distances = collection_of(database, name).search_batch(vectors, **arguments)
    if parsed.wants_frame:
        return Reply(codec.encode_frame({"ids": ids.tolist()}, distances), codec.FRAME_TYPE)
    finite = np.isfinite(distances)
    listed = [[d if ok else None for d, ok in zip(row, oks)] for row, oks in zip(distances.tolist(), finite.tolist())]
    return json_reply({"ids": ids.tolist(), "distances": listed})


def compact(database: Database, name: str) -> Reply:
    """Rebuild a collection's storage without deleted records; answers how many slots were reclaimed."""
    return json_reply({"reclaimed": collection_of(database, name).compact()})


def checkpoint(database: Database) -> Reply:
    """Checkpoint the database."""
    database.checkpoint()
    return json_reply({})


def refresh(database: Database) -> Reply:
    """Refresh the database (a no-op for the writer the server holds)."""
    database.refresh()
    return json_reply({})
