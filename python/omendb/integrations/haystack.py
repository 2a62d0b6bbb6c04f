"""Haystack document store backed by OmenDB: ``OmenDBDocumentStore`` and ``OmenDBEmbeddingRetriever``.

Storage. Each document is one record of the collection ``collection``, its id the document's id:
- its vector is the document's embedding. A document without one gets a zero vector and the field
  ``_embedded: False``, which every embedding retrieval filters out. Keeping all documents in one
  collection keeps each write all-or-nothing and documents in write order. Until a first embedding
  fixes the collection's dimension, documents wait in the collection ``<collection>.no-embeddings``
  (dimension 1); the first write with embeddings moves them into ``collection`` (an interrupted move
  is finished when the store is next opened).
- meta values that OmenDB's filters compare as Haystack does (bool, str, 64-bit int, finite float)
  are fields named ``meta.<key>``, so OmenDB answers filters on them;
- the rest, as one JSON string under ``_doc``: content, blob, sparse embedding, the exact (float64)
  embedding, and the other meta values (None, lists, dicts, NaN, ...). Documents come back equal to
  the ones written.

Filters. A Haystack filter becomes two OmenDB filters: an upper bound matching every document the
filter matches, and a lower bound matching only such documents. Where both are the same (plain
comparisons of native meta values with AND, OR, NOT), OmenDB alone answers; otherwise the upper
bound selects candidates and Haystack's own matcher decides in Python. Conditions on content, id,
nested meta, None, lists and ISO dates are of that second kind.

Needs haystack-ai 2.5 or later, 3.x included (``pip install omendb[haystack]``); ``import omendb`` does not.
"""

import base64
import dataclasses
import json
import logging
import math
import operator
import os
import re
import threading
from datetime import datetime
from typing import Any, Callable, List, Optional, Union

import numpy as np

import omendb

try:
    from haystack import Document, component, default_from_dict, default_to_dict
    from haystack.document_stores.errors import DuplicateDocumentError
    from haystack.document_stores.types import DuplicatePolicy, FilterPolicy, apply_filter_policy
    from haystack.errors import FilterError
    from haystack.utils.filters import document_matches_filter
except ImportError as error:
    raise ImportError("omendb.integrations.haystack needs haystack-ai: pip install omendb[haystack]") from error

logger = logging.getLogger(__name__)

_DOC = "_doc"  # JSON: what OmenDB fields do not hold (content, blob, exact embedding, other meta values)
_EMBEDDED = "_embedded"  # bool: whether the document has an embedding (if not, its vector is zero)
_BIG_NUMBERS = "_big_numbers"  # list of the meta keys whose numbers are in the JSON (inf, NaN, ints past 64 bits)
_META = "meta."  # prefix of the fields holding meta values
_MAX_K = 100_000  # the largest k an OmenDB search takes

# Haystack's score (higher is better) from OmenDB's distance, and the score scaled to [0, 1].
_SCORES: dict[str, tuple[Callable[[float], float], Callable[[float], float]]] = {
    "cosine": (lambda distance: 1.0 - distance, lambda score: (score + 1.0) / 2.0),  # cosine similarity
    "ip": (lambda distance: -distance, lambda score: 0.5 + 0.5 * math.tanh(score / 200.0)),  # expit(dot / 100)
    "l2": (lambda distance: -distance, lambda score: 1.0 / (1.0 - score)),  # 1 / (1 + squared distance)
}

# Haystack's ordering comparisons: OmenDB's operator, and Python's (for bools, which OmenDB does not order).
_ORDERINGS = {
    ">": ("$gt", operator.gt),
    ">=": ("$gte", operator.ge),
    "<": ("$lt", operator.lt),
    "<=": ("$lte", operator.le),
}
_COMPARISONS = "'==', '!=', '>', '>=', '<', '<=', 'in', 'not in'"
_DOCUMENT_FIELDS = frozenset(field.name for field in dataclasses.fields(Document))
# Haystack compares two strings as dates when both start like this (YYYY-MM-DD).
_ISO_DATE_START = re.compile(r"\d{4}-\d\d-\d\d")

# An OmenDB filter, or True (matches every document) or False (matches none).
Bound = Union[dict, bool]


class OmenDBDocumentStore:
    """A Haystack document store in an OmenDB database, for documents with and without embeddings.

    path: ``":memory:"`` (default) or a folder (created when missing), which keeps the documents
    across runs; one store at a time per folder (another raises ``omendb.LockedError`` until
    ``close()``). collection: the collection's name. metric: ``"cosine"`` (default, scores are
    cosine similarities), ``"ip"`` (inner products) or ``"l2"`` (negative squared distances); an
    existing collection must have it. Methods may be called from any thread; writes run one at a time.
    """

    def __init__(
        self, path: Union[str, os.PathLike] = ":memory:", collection: str = "haystack", metric: str = "cosine"
    ) -> None:
        if metric not in _SCORES:
            raise ValueError(f"metric must be one of {sorted(_SCORES)}, got {metric!r}")
        self.path = os.fspath(path)
        self.collection = collection
        self.metric = metric
        self._pending = f"{collection}.no-embeddings"
        self._lock = threading.Lock()
        self._db = omendb.open(self.path)
        self._collection = self._open_collection()

    def to_dict(self) -> dict[str, Any]:
        """The store's settings, for Haystack's serialisation; the documents stay in the folder (or
        are lost with an in-memory store)."""
        return default_to_dict(self, path=self.path, collection=self.collection, metric=self.metric)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OmenDBDocumentStore":
        """A store opened with the settings that ``to_dict()`` returned."""
        return default_from_dict(cls, data)

    def close(self) -> None:
        """Close the database (on disk: checkpoint it and release the folder). Idempotent."""
        self._db.close()

    def __enter__(self) -> "OmenDBDocumentStore":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def count_documents(self) -> int:
        """How many documents the store holds."""
        collection = self._collection
        return 0 if collection is None else len(collection)

    def filter_documents(self, filters: Optional[dict[str, Any]] = None) -> list[Document]:
        """The documents matching ``filters`` (all of them when None or empty), in write order (an
        overwrite is a write), with their embeddings. Raises FilterError for a malformed filter."""
        upper, lower = _bounds(filters) if filters else (True, True)
        collection = self._collection
        if collection is None or upper is False:
            return []
        documents = [_document(record.id, record.metadata) for record in collection.get(where=_where(upper))]
        if not _needs_python(collection, upper, lower):
            return documents
        return [document for document in documents if document_matches_filter(filters, document)]

    def write_documents(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE) -> int:
        """Write ``documents``; returns how many were written. For an id that exists (or repeats),
        ``policy`` NONE or FAIL raises DuplicateDocumentError, SKIP keeps the first, OVERWRITE the
        last. Embeddings must all have the dimension of the first one ever written. All documents
        are written or none."""
        if not isinstance(documents, list) or not all(isinstance(document, Document) for document in documents):
            raise ValueError(f"write_documents() takes a list of Documents, got {_describe(documents)}")
        with self._lock:
            batch = self._documents_to_write(documents, policy)
            if batch:
                metadata = [_record_metadata(document) for document in batch]
                collection = self._collection_for(batch)
                vectors = np.zeros((len(batch), collection.dim), dtype=np.float32)
                for row, document in enumerate(batch):
                    if document.embedding is not None:
                        vectors[row] = document.embedding
                collection.upsert([document.id for document in batch], vectors, metadata)
        return len(batch) if policy == DuplicatePolicy.SKIP else len(documents)

    def delete_documents(self, document_ids: list[str]) -> None:
        """Delete the documents with these ids; ids that do not exist are skipped."""
        with self._lock:
            if self._collection is not None and document_ids:
                self._collection.delete(list(document_ids))

    def embedding_retrieval(
        self,
        query_embedding: list[float],
        filters: Optional[dict[str, Any]] = None,
        top_k: int = 10,
        scale_score: bool = False,
        return_embedding: bool = False,
    ) -> list[Document]:
        """The ``top_k`` documents with embeddings nearest ``query_embedding`` among those matching
        ``filters``, best first, with ``score`` set (see the class's metric; ``scale_score``: scaled
        to [0, 1]) and their embeddings when ``return_embedding``. Documents without embeddings are
        never returned. Raises FilterError for a malformed filter, omendb.DimensionError for a query
        of another dimension than the stored embeddings.

        A filter that OmenDB cannot answer alone widens the search (4x at a time) until ``top_k``
        candidates pass it in Python, looking at 100,000 candidates at most."""
        if top_k < 0:
            raise ValueError(f"top_k must be at least 0, got {top_k}")
        upper, lower = _bounds(filters) if filters else (True, True)
        collection = self._collection
        if collection is None or collection.name == self._pending or upper is False or top_k == 0:
            return []
        where = _all([{_EMBEDDED: True}, upper])
        needs_python = _needs_python(collection, upper, lower)
        candidates = collection.count(_where(where))
        limit = min(candidates, _MAX_K)
        k = min(top_k, limit)
        found: list[tuple[omendb.Hit, Document]] = []
        while k > 0:
            hits = collection.search(query_embedding, k, where=where)
            found = [(hit, _document(hit.id, hit.metadata)) for hit in hits]
            if needs_python:
                found = [(hit, document) for hit, document in found if document_matches_filter(filters, document)]
            if len(found) >= top_k or k == limit:
                break
            k = min(4 * k, limit)
        if len(found) < top_k and candidates > _MAX_K:
            logger.warning("embedding_retrieval() stopped after %d candidates, of which %d match", k, len(found))
        similarity, scale = _SCORES[self.metric]
        results = []
        for hit, document in found[:top_k]:
            score = similarity(float(hit.distance))
            score = scale(score) if scale_score else score
            embedding = document.embedding if return_embedding else None
            results.append(dataclasses.replace(document, score=score, embedding=embedding))
        return results

    def _documents_to_write(self, documents: list[Document], policy: DuplicatePolicy) -> list[Document]:
        """The documents of a write that ``policy`` lets through, one per id; raises
        DuplicateDocumentError for ids that repeat or exist under NONE and FAIL."""
        overwrite = policy == DuplicatePolicy.OVERWRITE
        fail = policy in (DuplicatePolicy.NONE, DuplicatePolicy.FAIL)
        batch: dict[str, Document] = {}
        for document in documents:
            if document.id in batch and fail:
                raise DuplicateDocumentError(f"ID '{document.id}' appears twice in the documents to write")
            if overwrite or document.id not in batch:
                batch[document.id] = document
        if overwrite or not batch or self._collection is None:
            return list(batch.values())
        existing = [record.id for record in self._collection.get(list(batch)) if record is not None]
        if existing and fail:
            raise DuplicateDocumentError(f"ID '{existing[0]}' already exists ({len(existing)} of the ids do)")
        for document_id in existing:
            del batch[document_id]
        return list(batch.values())

    def _collection_for(self, batch: list[Document]) -> omendb.Collection:
        """The collection to write ``batch`` to: created at the first write, and moved from the
        pending one to ``collection`` (with the batch's dimension) at the first embedding."""
        dims = {len(document.embedding) for document in batch if document.embedding is not None}
        if len(dims) > 1:
            raise ValueError(f"the documents' embeddings differ in length: {sorted(dims)}")
        if not dims:
            if self._collection is None:
                self._collection = self._db.collection(self._pending, dim=1, metric="l2")
            return self._collection
        (dim,) = dims
        if dim == 0:
            raise ValueError("a document has an empty embedding")
        if self._collection is None:
            self._collection = self._db.collection(self.collection, dim=dim, metric=self.metric)
        elif self._collection.name == self._pending:
            self._move_pending(self._db.collection(self.collection, dim=dim, metric=self.metric))
        if dim != self._collection.dim:
            raise ValueError(
                f"the embeddings have {dim} dimensions; collection {self.collection!r} holds {self._collection.dim}"
            )
        return self._collection

    def _open_collection(self) -> Optional[omendb.Collection]:
        """The collection holding the documents, if any: ``collection`` (finishing a move of the
        pending documents that a crash cut short), else the pending one."""
        names = self._db.collections()
        if self.collection in names:
            collection = self._db.collection(self.collection, metric=self.metric)
            if self._pending in names:
                self._move_pending(collection)
            return collection
        return self._db.collection(self._pending) if self._pending in names else None

    def _move_pending(self, collection: omendb.Collection) -> None:
        """Add the pending documents that ``collection`` lacks to it, with zero vectors, make it the
        store's collection, then drop the pending one. Cost: reading and writing every pending
        document once."""
        records = self._db.collection(self._pending).get(where={})
        present = collection.get([record.id for record in records]) if records else []
        missing = [record for record, found in zip(records, present) if found is None]
        if missing:
            vectors = np.zeros((len(missing), collection.dim), dtype=np.float32)
            collection.add([record.id for record in missing], vectors, [record.metadata for record in missing])
        self._collection = collection
        self._db.drop_collection(self._pending)


@component
class OmenDBEmbeddingRetriever:
    """A Haystack component: the documents of an OmenDBDocumentStore whose embeddings are nearest a
    query embedding. ``filters`` apply to every run; ``filter_policy`` says whether a run's filters
    replace them (REPLACE, default) or narrow them (MERGE)."""

    def __init__(
        self,
        document_store: OmenDBDocumentStore,
        filters: Optional[dict[str, Any]] = None,
        top_k: int = 10,
        scale_score: bool = False,
        return_embedding: bool = False,
        filter_policy: Union[str, FilterPolicy] = FilterPolicy.REPLACE,
    ) -> None:
        if not isinstance(document_store, OmenDBDocumentStore):
            raise TypeError(f"document_store must be an OmenDBDocumentStore, got {type(document_store).__name__}")
        if top_k <= 0:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        self.document_store = document_store
        self.filters = filters
        self.top_k = top_k
        self.scale_score = scale_score
        self.return_embedding = return_embedding
        self.filter_policy = FilterPolicy.from_str(filter_policy) if isinstance(filter_policy, str) else filter_policy

    def to_dict(self) -> dict[str, Any]:
        """The component with its store's settings, for Haystack's serialisation."""
        return default_to_dict(
            self,
            document_store=self.document_store.to_dict(),
            filters=self.filters,
            top_k=self.top_k,
            scale_score=self.scale_score,
            return_embedding=self.return_embedding,
            filter_policy=self.filter_policy.value,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OmenDBEmbeddingRetriever":
        """The component that ``to_dict()`` described, opening its store."""
        parameters = data["init_parameters"]
        parameters["document_store"] = OmenDBDocumentStore.from_dict(parameters["document_store"])
        return default_from_dict(cls, data)

    @component.output_types(documents=List[Document])
    def run(
        self,
        query_embedding: List[float],
        filters: Optional[dict[str, Any]] = None,
        top_k: Optional[int] = None,
        scale_score: Optional[bool] = None,
        return_embedding: Optional[bool] = None,
    ) -> dict[str, list[Document]]:
        """``{"documents": [...]}``: the nearest documents, best first, each with its score. Unset
        arguments take the component's values."""
        return {
            "documents": self.document_store.embedding_retrieval(
                query_embedding=query_embedding,
                filters=apply_filter_policy(self.filter_policy, self.filters, filters),
                top_k=self.top_k if top_k is None else top_k,
                scale_score=self.scale_score if scale_score is None else scale_score,
                return_embedding=self.return_embedding if return_embedding is None else return_embedding,
            )
        }


def _record_metadata(document: Document) -> dict[str, Any]:
    """The OmenDB metadata of ``document``: native meta values as fields, the rest as JSON."""
    fields: dict[str, Any] = {_EMBEDDED: document.embedding is not None}
    kept: dict[str, Any] = {}
    for key, value in document.meta.items():
        if not isinstance(key, str):
            raise ValueError(f"document {document.id!r}: meta keys must be str, got {key!r}")
        if _is_native(value):
            fields[_META + key] = value
        else:
            kept[key] = value
    big_numbers = [key for key, value in kept.items() if isinstance(value, (int, float))]  # bools are native
    if big_numbers:
        fields[_BIG_NUMBERS] = big_numbers
    data = document.to_dict(flatten=False)
    data.update(id=None, score=None, meta=kept or None)  # the id is the record's; scores are not stored
    if document.embedding is not None:  # float64 bytes: exact, and 45% shorter than JSON numbers
        data["embedding"] = base64.b64encode(np.asarray(document.embedding, dtype="<f8").tobytes()).decode("ascii")
    try:
        fields[_DOC] = json.dumps({key: value for key, value in data.items() if value is not None})
    except (TypeError, ValueError) as error:
        raise ValueError(f"document {document.id!r} holds a value JSON cannot store: {error}") from None
    return fields


def _document(record_id: str, fields: dict[str, Any]) -> Document:
    """The Document that ``_record_metadata()`` stored as ``fields``."""
    if _DOC not in fields:
        raise ValueError(f"record {record_id!r} has no {_DOC!r} field: OmenDBDocumentStore did not write it")
    data = json.loads(fields[_DOC])
    meta = {key[len(_META) :]: value for key, value in fields.items() if key.startswith(_META)}
    meta.update(data.pop("meta", {}))
    if "embedding" in data:
        data["embedding"] = np.frombuffer(base64.b64decode(data["embedding"]), dtype="<f8").tolist()
    return Document.from_dict({**data, "id": record_id, "meta": meta})


def _is_native(value: Any) -> bool:
    """Whether an OmenDB field holds ``value`` and its filters compare it as Haystack's do: a
    bool, a str, a 64-bit int or a finite float. (Lists are not: Haystack compares them whole.)"""
    if isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def _bounds(node: Any) -> tuple[Bound, Bound]:
    """(upper, lower): OmenDB filters matching every document that the Haystack filter ``node``
    matches, and only such documents. Raises FilterError for a malformed filter."""
    if not isinstance(node, dict):
        raise FilterError(f"a filter must be a dict, got {_describe(node)}")
    if "field" in node:
        return _comparison_bounds(node)
    for key in ("operator", "conditions"):
        if key not in node:
            raise FilterError(f"'{key}' key missing in logical filter {node}")
    logical, conditions = node["operator"], node["conditions"]
    if logical not in ("AND", "OR", "NOT"):
        raise FilterError(f"unknown logical operator {logical!r} in {node}; valid ones: 'AND', 'OR', 'NOT'")
    if not isinstance(conditions, list):
        raise FilterError(f"'conditions' takes a list of filters, got {_describe(conditions)} in {node}")
    bounds = [_bounds(condition) for condition in conditions]
    uppers, lowers = [upper for upper, _ in bounds], [lower for _, lower in bounds]
    if logical == "OR":
        return _any(uppers), _any(lowers)
    if logical == "AND":
        return _all(uppers), _all(lowers)
    return _negate(_all(lowers)), _negate(_all(uppers))


def _comparison_bounds(node: dict) -> tuple[Bound, Bound]:
    for key in ("operator", "value"):
        if key not in node:
            raise FilterError(f"'{key}' key missing in comparison {node}")
    field, comparison, value = node["field"], node["operator"], node["value"]
    if not isinstance(field, str):
        raise FilterError(f"'field' takes a str, got {_describe(field)} in {node}")
    name = _meta_name(field)
    if comparison in ("==", "!="):
        upper, lower = _equal_bounds(name, value)
        return (upper, lower) if comparison == "==" else (_negate(lower), _negate(upper))
    if comparison in ("in", "not in"):
        if not isinstance(value, list):
            raise FilterError(f"'{comparison}' takes a list, got {_describe(value)} in {node}")
        bounds = [_equal_bounds(name, item) for item in value]
        upper, lower = _any([upper for upper, _ in bounds]), _any([lower for _, lower in bounds])
        return (upper, lower) if comparison == "in" else (_negate(lower), _negate(upper))
    if comparison in _ORDERINGS:
        return _ordering_bounds(name, comparison, value, node)
    raise FilterError(f"unknown comparison operator {comparison!r} in {node}; valid ones: {_COMPARISONS}")


def _equal_bounds(name: Optional[str], value: Any) -> tuple[Bound, Bound]:
    """Bounds of Haystack's ``meta.<name> == value``: Python's ``==`` (so True == 1), and equal
    instants for two ISO date strings."""
    if name is None:
        return True, False
    key = _META + name
    if isinstance(value, str) and _ISO_DATE_START.match(value):
        return {key: {"$gte": ""}}, {key: {"$eq": value}}  # any string may be the same date; '>= ""' holds for strings
    if _is_native(value):
        if isinstance(value, bool) or value in (0, 1):
            exact = {key: {"$in": [bool(value), int(value)]}}
        else:
            exact = {key: {"$eq": value}}
        return exact, exact
    if value is None or isinstance(value, (list, dict)):
        return {key: {"$exists": False}}, False  # only values kept in the JSON (or none) equal these
    return True, False


def _ordering_bounds(name: Optional[str], comparison: str, value: Any, node: dict) -> tuple[Bound, Bound]:
    """Bounds of Haystack's ``meta.<name> > value`` (and >=, <, <=): false for None; numbers
    (bools as 0 and 1), or ISO 8601 dates given as strings."""
    if value is None:
        return False, False
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise FilterError(
                f"'{comparison}' compares strings only as ISO 8601 dates; {value!r} is not one, in {node}"
            ) from None
        return (True, False) if name is None else ({_META + name: {"$gte": ""}}, False)
    if not isinstance(value, (int, float)):
        raise FilterError(f"'{comparison}' takes a number, an ISO 8601 date or None, got {_describe(value)} in {node}")
    if name is None or not _is_native(value):
        return True, False
    operand, holds = _ORDERINGS[comparison]
    number = int(value) if isinstance(value, bool) else value
    bools = [flag for flag in (False, True) if holds(flag, number)]
    exact = _any([{_META + name: {operand: number}}] + ([{_META + name: {"$in": bools}}] if bools else []))
    return _any([exact, {_BIG_NUMBERS: name}]), exact


def _meta_name(field: str) -> Optional[str]:
    """The meta key that the Haystack filter field ``field`` names (``meta.<key>``, or a bare
    name that is no Document field), or None for other fields (content, id, nested meta...)."""
    if field.startswith(_META):
        name = field[len(_META) :]
        return None if "." in name else name
    return None if "." in field or field in _DOCUMENT_FIELDS else field


def _needs_python(collection: omendb.Collection, upper: Bound, lower: Bound) -> bool:
    """Whether the documents matching ``upper`` need Haystack's matcher: some match it but not
    ``lower``. Cost: one count, answered by the payload indexes."""
    if upper == lower:
        return False
    outside = _all([upper, _negate(lower)])
    return outside is not False and collection.count(_where(outside)) > 0


def _where(bound: Bound) -> dict:
    """``bound`` as an OmenDB filter (never False: callers return early)."""
    return {} if bound is True else bound


def _all(filters: list[Bound]) -> Bound:
    if False in filters:
        return False
    filters = [item for item in filters if item is not True]
    return True if not filters else filters[0] if len(filters) == 1 else {"$and": filters}


def _any(filters: list[Bound]) -> Bound:
    if True in filters:
        return True
    filters = [item for item in filters if item is not False]
    return False if not filters else filters[0] if len(filters) == 1 else {"$or": filters}


def _negate(bound: Bound) -> Bound:
    return (not bound) if isinstance(bound, bool) else {"$not": bound}


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]
