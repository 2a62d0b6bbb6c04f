"""LangChain vector store backed by an OmenDB collection: ``OmenDBVectorStore``.

Each document is one record: its id is the document's id, its vector the text's embedding. Its
metadata holds the document's text under ``_page_content`` and the document's metadata fields that
OmenDB stores natively (None, bool, 64-bit int, finite float, str, list of str), so filters can use
them. Other values that JSON holds exactly (dicts, lists of numbers, big ints...) are kept together
as one JSON string under ``_metadata_json``, so filters see them as missing. Every document comes
back with the text and metadata it was added with.

Needs langchain-core (``pip install omendb[langchain]``); ``import omendb`` does not.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np

from omendb import InvalidArgumentError

from ._lazy_collection import LazyCollection

try:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import VectorStore
except ImportError as error:
    raise ImportError("omendb.integrations.langchain needs langchain-core: pip install omendb[langchain]") from error

TEXT_KEY = "_page_content"
JSON_KEY = "_metadata_json"

# A metadata filter in OmenDB's form: a Mongo-style dict or a string; see docs/filters.md.
Filter = Optional[Union[dict, str]]

# The cosine similarity (exact for unit-length embeddings under "l2" and "ip") from OmenDB's distance.
_SIMILARITY: dict[str, Callable[[float], float]] = {
    "cosine": lambda distance: 1.0 - distance,  # 1 - cosine similarity
    "l2": lambda distance: 1.0 - distance / 2.0,  # squared Euclidean: 2 - 2 cos for unit vectors
    "ip": lambda distance: -distance,  # negative inner product
}


class OmenDBVectorStore(VectorStore):
    """A LangChain vector store in an OmenDB collection; it stores the documents' text too.

    embedding: the ``Embeddings`` that turns texts into vectors.
    path: ``":memory:"`` (default) or a folder (created when missing), which keeps the documents
    across runs; one writer per folder (a second store on it raises ``omendb.LockedError`` until
    ``close()``). collection: the collection's name; it is created on the first add, with the
    embeddings' dimension. metric: ``"cosine"`` (default), ``"l2"`` or ``"ip"``; an existing
    collection must have it. Methods may be called from any thread; the async ones are LangChain's
    defaults, which run the sync ones in a worker thread.
    """

    def __init__(
        self,
        *,
        embedding: Embeddings,
        path: Union[str, os.PathLike] = ":memory:",
        collection: str = "langchain",
        metric: str = "cosine",
    ) -> None:
        if not isinstance(embedding, Embeddings):
            raise InvalidArgumentError(f"embedding must be a LangChain Embeddings, got {type(embedding).__name__}")
        if metric not in _SIMILARITY:
            raise InvalidArgumentError(f"metric must be one of {sorted(_SIMILARITY)}, got {metric!r}")
        self._embedding = embedding
        self._store = LazyCollection(path, collection, metric)

    @property
    def embeddings(self) -> Embeddings:
        """The embedding model given at construction."""
        return self._embedding

    def close(self) -> None:
        """Close the database (checkpointing it); later calls raise ``omendb.ClosedError``."""
        self._store.close()

    def __enter__(self) -> OmenDBVectorStore:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: Optional[Sequence[Optional[dict]]] = None,
        *,
        ids: Optional[Sequence[Optional[str]]] = None,
        batch_size: Optional[int] = None,
    ) -> list[str]:
        """Embed ``texts`` and store them with their metadata; returns their ids.

        ids: one per text; a missing or None one gets a new UUID. A document whose id exists is
        replaced. batch_size: embed and write this many texts at a time (default: all at once).
        Each batch is written whole or not at all; an id repeated in it raises
        ``omendb.DuplicateIdError``. Metadata values must be JSON (dicts with str keys, lists,
        str, numbers, bool, None); anything else raises ``InvalidArgumentError`` before any write.
        """
        if isinstance(texts, str):
            raise InvalidArgumentError("texts must be a list of str, got a str")
        texts = list(texts)
        metadatas = _one_per_text(metadatas, len(texts), "metadatas")
        ids = [str(uuid.uuid4()) if id_ is None else id_ for id_ in _one_per_text(ids, len(texts), "ids")]
        if batch_size is not None:
            _check_count(batch_size, "batch_size")
        stored = [_encode(text, metadata) for text, metadata in zip(texts, metadatas)]
        step = batch_size or max(len(texts), 1)
        for start in range(0, len(texts), step):
            batch = slice(start, start + step)
            vectors = self._embedding.embed_documents(texts[batch])
            if len(vectors) != len(texts[batch]):
                raise InvalidArgumentError(
                    f"the embedding returned {len(vectors)} vectors for {len(texts[batch])} texts"
                )
            self._store.with_dim(len(vectors[0])).upsert(ids[batch], vectors, stored[batch])
        return ids

    def delete(self, ids: Optional[Sequence[str]] = None, *, filter: Filter = None) -> bool:  # noqa: A002
        """Delete the documents with these ids, or those matching ``filter`` (``{}``: all of them).

        Ids that do not exist are skipped. Returns True.
        """
        if (ids is None) == (filter is None):
            raise InvalidArgumentError("delete() takes ids or filter=, exactly one of them (filter={} deletes all)")
        collection = self._store.existing()
        if collection is None:
            return True
        if ids is None:
            collection.delete(where=filter)
        else:
            collection.delete(ids)
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in the order asked; ids that do not exist are skipped."""
        collection = self._store.existing()
        if collection is None:
            return []
        return [_decode(record.id, record.metadata) for record in collection.get(ids) if record]

    def similarity_search(self, query: str, k: int = 4, *, filter: Filter = None) -> list[Document]:  # noqa: A002
        """The ``k`` documents nearest to the query's embedding, nearest first, among those matching
        ``filter`` (OmenDB's ``where``: a Mongo-style dict or a string, see docs/filters.md)."""
        return [document for document, _ in self.similarity_search_with_score(query, k, filter=filter)]

    def similarity_search_with_score(
        self,
        query: str,
        k: int = 4,
        *,
        filter: Filter = None,  # noqa: A002
    ) -> list[tuple[Document, float]]:
        """``similarity_search`` with each document's OmenDB distance (smaller is closer): 1 - cosine
        similarity for "cosine", squared Euclidean distance for "l2", negative inner product for "ip"."""
        return self.similarity_search_with_score_by_vector(self._embedding.embed_query(query), k, filter=filter)

    def similarity_search_by_vector(
        self,
        embedding: Sequence[float],
        k: int = 4,
        *,
        filter: Filter = None,  # noqa: A002
    ) -> list[Document]:
        """``similarity_search`` for a query vector."""
        return [document for document, _ in self.similarity_search_with_score_by_vector(embedding, k, filter=filter)]

    def similarity_search_with_score_by_vector(
        self,
        embedding: Sequence[float],
        k: int = 4,
        *,
        filter: Filter = None,  # noqa: A002
    ) -> list[tuple[Document, float]]:
        """``similarity_search_with_score`` for a query vector."""
        _check_count(k, "k")
        collection = self._store.existing()
        if collection is None:
            return []
        hits = collection.search(embedding, k=k, where=filter)
        return [(_decode(hit.id, hit.metadata), hit.distance) for hit in hits]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Relevance in [0, 1] from a distance: the cosine similarity, clipped to [0, 1]. Under "l2"
        and "ip" it is derived as if the embeddings were unit length (as most are)."""
        similarity = _SIMILARITY[self._store.metric]
        return lambda distance: min(1.0, max(0.0, similarity(distance)))

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        *,
        filter: Filter = None,  # noqa: A002
    ) -> list[Document]:
        """Up to ``k`` documents chosen by maximal marginal relevance among the ``fetch_k`` nearest
        to the query that match ``filter``: each next one maximises ``lambda_mult`` x (cosine
        similarity to the query) - (1 - ``lambda_mult``) x (largest cosine similarity to those
        already chosen). ``lambda_mult`` 1 keeps the nearest; 0 favours diversity most."""
        return self.max_marginal_relevance_search_by_vector(
            self._embedding.embed_query(query), k, fetch_k, lambda_mult, filter=filter
        )

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: Sequence[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        *,
        filter: Filter = None,  # noqa: A002
    ) -> list[Document]:
        """``max_marginal_relevance_search`` for a query vector."""
        _check_count(k, "k")
        _check_count(fetch_k, "fetch_k")
        if fetch_k < k:
            raise InvalidArgumentError(f"fetch_k must be at least k: fetch_k={fetch_k}, k={k}")
        if isinstance(lambda_mult, bool) or not isinstance(lambda_mult, (int, float)) or not 0 <= lambda_mult <= 1:
            raise InvalidArgumentError(f"lambda_mult must be a number in [0, 1], got {lambda_mult!r}")
        collection = self._store.existing()
        if collection is None:
            return []
        hits = collection.search(embedding, k=fetch_k, where=filter)
        records = [record for record in collection.get([hit.id for hit in hits]) if record]
        if not records:
            return []
        chosen = _mmr(np.asarray(embedding, dtype=np.float64), np.stack([r.vector for r in records]), k, lambda_mult)
        return [_decode(records[i].id, records[i].metadata) for i in chosen]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: Optional[Sequence[Optional[dict]]] = None,
        *,
        ids: Optional[Sequence[Optional[str]]] = None,
        path: Union[str, os.PathLike] = ":memory:",
        collection: str = "langchain",
        metric: str = "cosine",
    ) -> OmenDBVectorStore:
        """A store (see the class) holding ``texts``, added as ``add_texts`` adds them."""
        store = cls(embedding=embedding, path=path, collection=collection, metric=metric)
        try:
            store.add_texts(texts, metadatas, ids=ids)
        except BaseException:
            store.close()
            raise
        return store



def _one_per_text(values: Optional[Sequence], count: int, what: str) -> list:
    """``values`` as a list, checked to hold one entry per text; None gives ``count`` Nones."""
    if values is None:
        return [None] * count
    if isinstance(values, (str, dict)):
        raise InvalidArgumentError(f"{what} must be a list, got {type(values).__name__}")
    values = list(values)
    if len(values) != count:
        raise InvalidArgumentError(f"{what} must hold one entry per text: {count} texts, {len(values)} {what}")
    return values


def _check_count(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{what} must be an int of at least 1, got {value!r}")


def _encode(text: str, metadata: Optional[dict]) -> dict:
    """The OmenDB metadata of a document: text, native fields, and the others as JSON."""
    if not isinstance(text, str):
        raise InvalidArgumentError(f"texts must be str, got {type(text).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidArgumentError(f"metadata must be a dict or None, got {type(metadata).__name__}")
    stored: dict[str, Any] = {TEXT_KEY: text}
    as_json: dict[str, Any] = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"metadata keys must be str, got {key!r}")
        if key in (TEXT_KEY, JSON_KEY):
            raise InvalidArgumentError(f"metadata key {key!r} is reserved: OmenDBVectorStore stores its own data there")
        if _is_native(value):
            stored[key] = value
            continue
        problem = _json_problem(value, f"metadata[{key!r}]")
        if problem:
            raise InvalidArgumentError(
                f"{problem}, which OmenDB cannot store exactly; use JSON values "
                "(dict with str keys, list, str, int, float, bool, None)"
            )
        as_json[key] = value
    if as_json:
        stored[JSON_KEY] = json.dumps(as_json)
    return stored


def _decode(id_: str, stored: dict) -> Document:
    """The document whose OmenDB metadata is ``stored`` (``_encode``'s inverse)."""
    metadata = dict(stored)
    text = metadata.pop(TEXT_KEY, "")  # "" for a record added without this integration
    metadata.update(json.loads(metadata.pop(JSON_KEY, "{}")))
    return Document(id=id_, page_content=text, metadata=metadata)


def _is_native(value: Any) -> bool:
    """Whether OmenDB stores ``value`` as a field that filters can read (and returns it as it is)."""
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return type(value) is list and all(isinstance(item, str) for item in value)


def _json_problem(value: Any, where: str) -> Optional[str]:
    """What in ``value`` would not come back equal from ``json.loads(json.dumps(value))``, as in
    "metadata['a'][0] is a tuple"; None when nothing."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return None
    if type(value) is list:
        items = [(f"{where}[{index}]", item) for index, item in enumerate(value)]
    elif type(value) is dict:
        if not all(isinstance(key, str) for key in value):
            return f"{where} has a key that is not a str"
        items = [(f"{where}[{key!r}]", item) for key, item in value.items()]
    else:
        return f"{where} is a {type(value).__name__}"
    return next((problem for path, item in items if (problem := _json_problem(item, path))), None)


def _mmr(query: np.ndarray, candidates: np.ndarray, k: int, lambda_mult: float) -> list[int]:
    """Indexes of up to ``k`` rows of ``candidates`` picked greedily by maximal marginal relevance
    on cosine similarity (see ``max_marginal_relevance_search``); the first is the most similar."""
    unit = candidates / np.maximum(np.linalg.norm(candidates, axis=1, keepdims=True), 1e-30)
    relevance = unit @ (query / max(float(np.linalg.norm(query)), 1e-30))
    similarity = unit @ unit.T
    chosen = [int(np.argmax(relevance))]
    redundancy = similarity[chosen[0]].copy()  # each candidate's largest similarity to a chosen one
    while len(chosen) < min(k, len(candidates)):
        score = lambda_mult * relevance - (1.0 - lambda_mult) * redundancy
        score[chosen] = -np.inf
        best = int(np.argmax(score))
        chosen.append(best)
        np.maximum(redundancy, similarity[best], out=redundancy)
    return chosen
