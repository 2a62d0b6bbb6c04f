"""LlamaIndex vector store backed by an OmenDB collection: ``OmenDBVectorStore``.

Each node is one record: its id is the node id, its vector the node's embedding. Its metadata holds
the node's own metadata fields that OmenDB stores natively (bool, 64-bit int, finite float, str,
list of str), so filters can use them, and four reserved keys: ``_node_content`` (the whole node,
text and metadata included, as JSON, so every node round-trips exactly), ``_node_type``,
``_node_id`` and ``_ref_doc_id``. Other metadata values (None, dicts, lists of numbers...) live in
the JSON only, so filters see them as missing.

Needs llama-index-core (``pip install omendb[llamaindex]``); ``import omendb`` does not.
"""

from __future__ import annotations

import asyncio
import math
import os
from typing import Any, Callable, Optional, Sequence

import omendb
from omendb import InvalidArgumentError, NotSupportedError

from ._lazy_collection import LazyCollection

try:
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.schema import BaseNode
    from llama_index.core.vector_stores.types import (
        BasePydanticVectorStore,
        FilterCondition,
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
        VectorStoreQuery,
        VectorStoreQueryMode,
        VectorStoreQueryResult,
    )
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
except ImportError as error:
    raise ImportError(
        "omendb.integrations.llama_index needs llama-index-core: pip install omendb[llamaindex]"
    ) from error

_CONTENT = "_node_content"
_TYPE = "_node_type"
_NODE_ID = "_node_id"
_REF_DOC_ID = "_ref_doc_id"
_RESERVED_KEYS = frozenset({_CONTENT, _TYPE, _NODE_ID, _REF_DOC_ID})

# Similarity (larger is closer) from OmenDB's distance (smaller is closer), per metric.
_SIMILARITY: dict[str, Callable[[float], float]] = {
    "cosine": lambda distance: 1.0 - distance,  # cosine similarity
    "ip": lambda distance: -distance,  # inner product
    "l2": lambda distance: 1.0 / (1.0 + distance),  # in (0, 1]
}

_COMPARISONS = {
    FilterOperator.EQ: "$eq",
    FilterOperator.NE: "$ne",
    FilterOperator.GT: "$gt",
    FilterOperator.GTE: "$gte",
    FilterOperator.LT: "$lt",
    FilterOperator.LTE: "$lte",
}
_UNSUPPORTED_OPERATORS = {
    FilterOperator.TEXT_MATCH_INSENSITIVE: "OmenDB filters compare strings bytewise, with no case folding",
}


class OmenDBVectorStore(BasePydanticVectorStore):
    """A LlamaIndex vector store in an OmenDB collection; it stores the nodes' text too.

    path: ``":memory:"`` or a folder (created when missing), which keeps the nodes across runs; one
    writer per folder (a second store on it raises ``omendb.LockedError`` until ``close()``).
    collection: the collection's name; it is created on the first ``add``, with the embeddings'
    dimension. metric: ``"cosine"`` (default), ``"ip"`` or ``"l2"``; query similarities are the
    cosine similarity, the inner product, or 1 / (1 + squared distance).
    Methods may be called from any thread; the async ones run the sync ones in a worker thread.
    """

    stores_text: bool = True
    path: str
    collection: str
    metric: str

    _store: LazyCollection = PrivateAttr()

    def __init__(
        self, path: str | os.PathLike = ":memory:", collection: str = "llama_index", metric: str = "cosine"
    ) -> None:
        """Open (or create) the database at ``path`` and pick up ``collection`` if it exists, which
        must then have this ``metric``."""
        if metric not in _SIMILARITY:
            raise InvalidArgumentError(f"metric must be one of {sorted(_SIMILARITY)}, got {metric!r}")
        super().__init__(path=os.fspath(path), collection=collection, metric=metric)
        self._store = LazyCollection(self.path, collection, metric)

    @classmethod
    def class_name(cls) -> str:
        """The name LlamaIndex serialises this store under."""
        return "OmenDBVectorStore"

    @property
    def client(self) -> omendb.Database:
        """The ``omendb.Database`` the store writes to."""
        return self._store.db

    def close(self) -> None:
        """Close the database (checkpointing it), releasing a folder's lock. Later calls raise
        ``omendb.ClosedError``."""
        self._store.close()

    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> list[str]:
        """Store the nodes (all or none), replacing those whose ids exist; returns their ids.

        Every node needs an embedding of the collection's dimension (the first add fixes it) and
        no metadata key among the reserved ``_node_content``, ``_node_type``, ``_node_id`` and
        ``_ref_doc_id``; a node id repeated in the batch raises ``omendb.DuplicateIdError``.
        """
        if not nodes:
            return []
        for node in nodes:
            if node.embedding is None:
                raise InvalidArgumentError(f"node {node.node_id!r} has no embedding; embed the nodes before add()")
        ids = [node.node_id for node in nodes]
        vectors = [node.embedding for node in nodes]
        collection = self._store.with_dim(len(vectors[0]))
        collection.upsert(ids, vectors, [_record_metadata(node) for node in nodes])
        return ids

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete the nodes whose ``ref_doc_id`` (source document) is ``ref_doc_id``."""
        collection = self._store.existing()
        if collection is not None:
            collection.delete(where={_REF_DOC_ID: ref_doc_id})

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """The ``query.similarity_top_k`` nodes nearest to ``query.query_embedding``, best first,
        with their ids and similarities, among those matching ``query.filters`` and, when
        ``query.node_ids`` / ``query.doc_ids`` are non-empty, with an id / ``ref_doc_id`` in them
        (empty means no restriction: ``VectorStoreIndex`` passes ``node_ids=[]`` to stores that
        keep text).

        Only ``VectorStoreQueryMode.DEFAULT`` is served (others raise ``omendb.NotSupportedError``),
        and filter operators as in ``metadata_filters_to_where``. k nodes come back whenever k
        match; fewer only when fewer do.
        """
        if query.mode != VectorStoreQueryMode.DEFAULT:
            mode = VectorStoreQueryMode(query.mode).value
            raise NotSupportedError(f"query mode {mode!r} is not supported by OmenDBVectorStore; use 'default'")
        if query.query_embedding is None:
            raise InvalidArgumentError("query.query_embedding is None; OmenDBVectorStore searches by embedding")
        where = _where(query.filters, query.node_ids or None, query.doc_ids or None)
        collection = self._store.existing()
        if collection is None:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        hits = collection.search(query.query_embedding, k=query.similarity_top_k, where=where or None)
        similarity = _SIMILARITY[collection.metric]
        return VectorStoreQueryResult(
            nodes=[metadata_dict_to_node(hit.metadata) for hit in hits],
            similarities=[similarity(hit.distance) for hit in hits],
            ids=[hit.id for hit in hits],
        )

    def get_nodes(
        self, node_ids: Optional[list[str]] = None, filters: Optional[MetadataFilters] = None
    ) -> list[BaseNode]:
        """The stored nodes (without embeddings) with these ids and matching these filters: those
        of ``node_ids`` in the order given (missing ids skipped), else oldest first; all nodes when
        both are None."""
        where = _where(filters, node_ids)
        collection = self._store.existing()
        if collection is None:
            return []
        records = collection.get(where=where)
        if node_ids is not None:
            position = {node_id: index for index, node_id in enumerate(node_ids)}
            records.sort(key=lambda record: position[record.id])
        return [metadata_dict_to_node(record.metadata) for record in records]

    def delete_nodes(
        self, node_ids: Optional[list[str]] = None, filters: Optional[MetadataFilters] = None, **delete_kwargs: Any
    ) -> None:
        """Delete the nodes with these ids and matching these filters (ids that do not exist are
        skipped). At least one of the two is required; ``clear()`` deletes everything."""
        if node_ids is None and filters is None:
            raise InvalidArgumentError("delete_nodes() needs node_ids or filters; use clear() to delete every node")
        where = _where(filters, node_ids)
        collection = self._store.existing()
        if collection is not None:
            collection.delete(where=where)

    def clear(self) -> None:
        """Delete every node by dropping the collection; the next add creates it anew (with any
        dimension)."""
        self._store.drop()

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """``add`` in a worker thread."""
        return await asyncio.to_thread(self.add, nodes, **kwargs)

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """``delete`` in a worker thread."""
        await asyncio.to_thread(self.delete, ref_doc_id, **delete_kwargs)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """``query`` in a worker thread."""
        return await asyncio.to_thread(self.query, query, **kwargs)

    async def aget_nodes(
        self, node_ids: Optional[list[str]] = None, filters: Optional[MetadataFilters] = None
    ) -> list[BaseNode]:
        """``get_nodes`` in a worker thread."""
        return await asyncio.to_thread(self.get_nodes, node_ids, filters)

    async def adelete_nodes(
        self, node_ids: Optional[list[str]] = None, filters: Optional[MetadataFilters] = None, **delete_kwargs: Any
    ) -> None:
        """``delete_nodes`` in a worker thread."""
        await asyncio.to_thread(self.delete_nodes, node_ids, filters, **delete_kwargs)

    async def aclear(self) -> None:
        """``clear`` in a worker thread."""
        await asyncio.to_thread(self.clear)

def metadata_filters_to_where(filters: MetadataFilters) -> dict:
    """Translate LlamaIndex ``MetadataFilters`` (nested ones included) into an OmenDB ``where`` dict.

    Conditions: AND -> ``$and``, OR -> ``$or``, NOT (none of the filters matches) -> ``$not`` of
    ``$or``; an empty filter list matches every node. Operators: EQ NE GT GTE LT LTE IN NIN map
    to the ``$`` operator of the same name; CONTAINS and TEXT_MATCH to ``$contains`` (a substring
    of a str field, an element of a list field); ANY and ALL to ``$or`` / ``$and`` of
    ``$contains``; IS_EMPTY to "missing, "" or []". TEXT_MATCH_INSENSITIVE raises
    ``omendb.NotSupportedError``; a value of the wrong type raises ``omendb.InvalidArgumentError``.
    """
    parts = [
        metadata_filters_to_where(item) if isinstance(item, MetadataFilters) else _filter_to_where(item)
        for item in filters.filters
    ]
    if not parts:
        return {}
    if filters.condition == FilterCondition.OR:
        return {"$or": parts}
    if filters.condition == FilterCondition.NOT:
        return {"$not": {"$or": parts}}
    return {"$and": parts}


def _filter_to_where(item: MetadataFilter) -> dict:
    """One ``MetadataFilter`` as an OmenDB ``where`` dict."""
    key, value, operator = item.key, item.value, item.operator
    if operator in _COMPARISONS:
        return {key: {_COMPARISONS[operator]: value}}
    if operator in (FilterOperator.IN, FilterOperator.NIN):
        if not isinstance(value, list):
            raise InvalidArgumentError(f"filter {operator.name} on {key!r} takes a list, got {type(value).__name__}")
        return {key: {"$in" if operator == FilterOperator.IN else "$nin": value}}
    if operator in (FilterOperator.CONTAINS, FilterOperator.TEXT_MATCH):
        if not isinstance(value, str):
            raise InvalidArgumentError(
                f"filter {operator.name} on {key!r} takes a str (OmenDB lists hold only str), "
                f"got {type(value).__name__}"
            )
        return {key: {"$contains": value}}
    if operator in (FilterOperator.ANY, FilterOperator.ALL):
        if not isinstance(value, list) or not value or not all(isinstance(element, str) for element in value):
            raise InvalidArgumentError(
                f"filter {operator.name} on {key!r} takes a non-empty list of str, got {value!r}"
            )
        contains = [{key: {"$contains": element}} for element in value]
        return {"$or": contains} if operator == FilterOperator.ANY else {"$and": contains}
    if operator == FilterOperator.IS_EMPTY:
        return {"$or": [{key: {"$exists": False}}, {key: ""}, {key: []}]}
    reason = _UNSUPPORTED_OPERATORS.get(operator, "OmenDBVectorStore does not know this operator")
    raise NotSupportedError(f"filter {operator.name} on {key!r} cannot be served: {reason}")


def _where(
    filters: Optional[MetadataFilters], node_ids: Optional[Sequence[str]], doc_ids: Optional[Sequence[str]] = None
) -> dict:
    """The ``where`` dict of nodes matching ``filters``, with an id in ``node_ids`` and a
    ``ref_doc_id`` in ``doc_ids``, each when not None; ``{}`` (everything) when all are None."""
    parts = []
    if filters is not None:
        parts.append(metadata_filters_to_where(filters))
    if node_ids is not None:
        parts.append({_NODE_ID: {"$in": list(node_ids)}})
    if doc_ids is not None:
        parts.append({_REF_DOC_ID: {"$in": list(doc_ids)}})
    return {"$and": parts} if parts else {}


def _record_metadata(node: BaseNode) -> dict:
    """The OmenDB metadata of ``node``: its natively storable fields and the reserved keys."""
    reserved = sorted(_RESERVED_KEYS.intersection(node.metadata))
    if reserved:
        raise InvalidArgumentError(
            f"node {node.node_id!r} has the metadata key {reserved[0]!r}, which OmenDBVectorStore reserves"
        )
    metadata = {key: value for key, value in node.metadata.items() if key and _is_native(value)}
    packed = node_to_metadata_dict(node)
    metadata[_CONTENT] = packed[_CONTENT]
    metadata[_TYPE] = packed[_TYPE]
    metadata[_NODE_ID] = node.node_id
    if node.ref_doc_id is not None:
        metadata[_REF_DOC_ID] = node.ref_doc_id
    return metadata


def _is_native(value: Any) -> bool:
    """Whether OmenDB stores ``value`` as a metadata value, so filters can use it (None is left
    out: filters treat it as missing anyway, and IS_EMPTY can then find it)."""
    if isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, list) and all(isinstance(element, str) for element in value)
