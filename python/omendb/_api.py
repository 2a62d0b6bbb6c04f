"""The public Python API: thin wrappers over the C++ engine in omendb._core.

These wrappers check argument types and shapes (so errors name the argument) and turn inputs into
float32 C-contiguous NumPy arrays, which the engine reads without a copy. The engine does the rest,
with the GIL released.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

import numpy as np

from . import _core
from ._arguments import (
    _batch_arguments,
    _check_name,
    _check_text_of,
    _document_list,
    _ef,
    _id_list,
    _matrix,
    _positive_int,
    _query_vector,
    _text_query,
    _text_settings,
)
from ._errors import ClosedError, InvalidArgumentError, NotFoundError
from ._hybrid import TEXT_SIGNAL, TextField, fusion_settings, text_field_of
from ._sparse import SparseField, sparse_query, sparse_rows
from ._vector_fields import DEFAULT_QUANTIZATION, VectorField, check_declared, describe, fields_of, split_rows

IN_MEMORY = ":memory:"

# A metadata filter: a Mongo-style dict or a string; see docs/filters.md.
Filter = Optional[Union[dict, str]]

_MAX_LIMIT = 2**63 - 1


def open(  # noqa: A001
    path: str | os.PathLike = IN_MEMORY,
    *,
    read_only: bool = False,
    sync: str = "full",
    threads: Optional[int] = None,
    checkpoint_log_bytes: int = 64 << 20,
    map_floats: bool = False,
) -> "Database":
    """Open a database: ``":memory:"`` keeps everything in RAM; any other path is a folder.

    A missing folder is created (with its parents). One handle at a time may write a folder: a
    second one, in this process or another, raises ``LockedError``. ``read_only=True`` opens an
    existing database without the lock; it sees what the writer committed up to ``open()`` or the
    last ``refresh()``, and writes raise ``ReadOnlyError``.

    sync: when a write returns. ``"full"`` (default): its log record is on disk (survives a power
    failure). ``"normal"``: it is in the OS's cache (survives a crash of this process; the log is
    synced at checkpoints and on close). ``"off"``: as normal, but the log is never synced.
    threads: caps the threads of batch inserts and batch searches (default: all cores).
    checkpoint_log_bytes: a checkpoint runs by itself once the log holds this many bytes.
    map_floats: how a quantized collection re-ranks with the float rows of its snapshot file.
    ``False`` (default): one read per row, so the floats stay in the OS page cache and this
    process holds only the codes, the graph and the ids (about 1.4 us per row read). ``True``:
    through a memory map, faster (about 20 us less per query at 128-d), but the kernel maps the
    file into the process as rows are read, so its resident memory grows toward the whole file.
    """
    return _open(path, read_only, sync, threads, checkpoint_log_bytes, env=None, map_floats=map_floats)


def _open(path, read_only, sync, threads, checkpoint_log_bytes, env, map_floats=False) -> "Database":
    """open() with its arguments checked, through ``env`` (a _core.FaultInjectionEnv in OmenDB's
    tests, omendb._testing; None: the real file system)."""
    threads = 0 if threads is None else _positive_int(threads, "threads")
    if not isinstance(read_only, bool):
        raise InvalidArgumentError(f"read_only must be a bool, got {type(read_only).__name__}")
    if not isinstance(map_floats, bool):
        raise InvalidArgumentError(f"map_floats must be a bool, got {type(map_floats).__name__}")
    if not isinstance(sync, str):
        raise InvalidArgumentError(f"sync must be a str, got {type(sync).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise InvalidArgumentError(f"path must be a str or a str path, got {type(path).__name__}")
    if "\0" in path:
        raise InvalidArgumentError("path must not contain a NUL character")
    engine = _core.Database.open(
        path, threads, read_only, sync, _positive_int(checkpoint_log_bytes, "checkpoint_log_bytes"), map_floats, env
    )
    return Database(engine, path)


class Database:
    """A set of named collections. Use ``omendb.open()`` to get one; close it, or use ``with``."""

    def __init__(self, engine: "_core.Database", path: str) -> None:
        self._engine = engine
        self.path = path

    def collection(
        self,
        name: str,
        dim: Optional[int] = None,
        metric: Optional[str] = None,
        m: int = 16,
        ef_construction: int = 100,
        quantization: Optional[str] = None,
        *,
        vectors: Optional[dict] = None,
        text: Union[None, bool, TextField] = None,
    ) -> "Collection":
        """Get the collection ``name``, creating it when ``dim`` (or ``vectors``) is given and it
        does not exist.

        metric: ``"l2"`` (squared Euclidean; the default for a new collection), ``"cosine"``
        (1 - cosine similarity; vectors are normalised when stored) or ``"ip"`` (negative inner
        product). Smaller distance is closer.
        m, ef_construction: graph degree, and how many candidates each insert chooses its links
        among; fixed at creation (an existing collection keeps its own).
        quantization: ``"sq8"`` (the default for a new collection: 8-bit codes, one byte per
        dimension, kept beside the floats; graph searches walk on the codes and re-rank their
        best candidates with the floats, so returned distances stay exact; in a database on disk
        the floats are then read through a memory map, so the collection may outgrow memory) or
        ``"none"`` (floats only: graph searches compute exact distances on the floats, and a
        collection in ``:memory:`` holds no codes, 144 B/vector less at 128-d). ``"sq8"``
        answers 1.3-2.5x hnswlib's single queries and builds 1.5x faster at 1M x 128; see
        README, "Quantized collections" and "Which default". Fixed at creation.
        An existing collection must match ``dim``, ``metric`` and ``quantization`` where they are
        given, else InvalidArgumentError.
        vectors: instead of dim, several named vector fields, each with its own dimension, metric
        and graph: ``{"image": omendb.VectorField(512, "cosine"), "caption":
        omendb.VectorField(384, "cosine")}``. Every record has the first field; a record may lack
        any other (it is then never returned by a search of that field). add/upsert take
        ``vectors={"image": M1, "caption": M2}``, search takes ``using="caption"``. An existing
        collection must have exactly these fields. ``omendb.SparseField()`` declares a sparse
        field (any field but the first): its vectors are ``{index: weight}`` dicts, searched by
        inner product (docs/hybrid.md, "Sparse vectors").
        text: ``True`` or an ``omendb.TextField(stemmer=None, stop_words=None, k1=1.2, b=0.75)``:
        records may carry a document (``add(..., documents=[...])``), indexed for BM25 search
        (``search(text="...")``) and hybrid search (docs/hybrid.md). Fixed at creation; an existing
        collection must have text when ``text`` is given.
        """
        self._check_open()
        _check_name(name)
        text_settings = _text_settings(text)
        if vectors is not None:
            return self._named_collection(name, check_declared(vectors), dim, metric, quantization,
                                          text_settings)
        if metric is not None and not isinstance(metric, str):
            raise InvalidArgumentError(f"metric must be a str, got {type(metric).__name__}")
        if quantization is not None and not isinstance(quantization, str):
            raise InvalidArgumentError(
                f"quantization must be a str, got {type(quantization).__name__}"
            )
        try:
            existing = Collection(self._engine.get_collection(name))
        except NotFoundError:
            existing = None
        if existing is not None:
            if dim is not None and _positive_int(dim, "dim") != existing.dim:
                raise InvalidArgumentError(
                    f"collection {name!r} exists with dim={existing.dim}, not dim={dim}"
                )
            if metric is not None and metric != existing.metric:
                raise InvalidArgumentError(
                    f"collection {name!r} exists with metric={existing.metric!r}, not {metric!r}"
                )
            if quantization is not None and quantization != existing.quantization:
                raise InvalidArgumentError(
                    f"collection {name!r} exists with quantization={existing.quantization!r}, "
                    f"not {quantization!r}"
                )
            return _check_text_of(existing, text_settings)
        if dim is None:
            raise NotFoundError(f"no collection named {name!r}; pass dim= to create it")
        engine = self._engine.create_collection(
            name,
            _positive_int(dim, "dim"),
            "l2" if metric is None else metric,
            _positive_int(m, "m"),
            _positive_int(ef_construction, "ef_construction"),
            DEFAULT_QUANTIZATION if quantization is None else quantization,
            **({} if text_settings is None else {"text": text_settings}),
        )
        return Collection(engine)

    def _named_collection(self, name: str, declared: dict, dim, metric, quantization,
                          text_settings: Optional[tuple]) -> "Collection":
        """Database.collection(name, vectors=declared)."""
        if dim is not None or metric is not None or quantization is not None:
            raise InvalidArgumentError(
                "vectors= declares each field's dim, metric and quantization: pass it without "
                "dim=, metric= or quantization=")
        try:
            existing = Collection(self._engine.get_collection(name))
        except NotFoundError:
            existing = None
        if existing is not None:
            have = existing.vector_fields
            if [(n, getattr(f, "dim", None), getattr(f, "metric", None)) for n, f in have.items()] != \
                    [(n, getattr(f, "dim", None), getattr(f, "metric", None)) for n, f in declared.items()]:
                raise InvalidArgumentError(
                    f"collection {name!r} exists with vector fields {describe(have)}, not "
                    f"{describe(declared)}")
            return _check_text_of(existing, text_settings)
        settings = [field.settings(field_name) for field_name, field in declared.items()
                    if isinstance(field, VectorField)]
        sparse = [field_name for field_name, field in declared.items() if isinstance(field, SparseField)]
        first = settings[0]
        engine = self._engine.create_collection(
            name, _positive_int(first[1], "dim"), first[2], _positive_int(first[3], "m"),
            _positive_int(first[4], "ef_construction"), first[5],
            vector_name=first[0], more_vectors=settings[1:], text=text_settings,
            **({"sparse_vectors": sparse} if sparse else {}))
        return Collection(engine)

    def collections(self) -> list[str]:
        """Names of all collections, sorted."""
        self._check_open()
        return self._engine.collection_names()

    def drop_collection(self, name: str) -> None:
        """Delete a collection; handles to it raise ``ClosedError`` afterwards."""
        self._check_open()
        _check_name(name)
        self._engine.drop_collection(name)

    def checkpoint(self) -> None:
        """Write the collections changed since the last checkpoint to snapshot files and start
        an empty log, so the next open replays nothing. Runs by itself as the log grows and on
        ``close()``; writes wait meanwhile, searches go on. A no-op in memory."""
        self._check_open()
        self._engine.checkpoint()

    def refresh(self) -> None:
        """Read-only handles: catch up with what the writer has committed since. Collection
        handles stay valid and see the new records. A no-op for the writer and in memory."""
        self._check_open()
        self._engine.refresh()

    def backup(self, path: str | os.PathLike) -> None:
        """Write a consistent copy of the database to the folder ``path`` while writes and
        searches go on; ``omendb.open(path)`` opens it like any database. ``path`` must not exist
        (or be an empty folder) and must lie outside this database's folder.

        The copy holds the database as it was at one moment during the call: every write
        acknowledged before the call, none begun after it returned. On disk, the files of the last
        checkpoint and the log are copied with no lock held; from a read-only handle, the copy
        is what the writer had committed at that moment. In memory, the collections are written
        out as a checkpoint would write them (writes wait meanwhile): the way to save an
        in-memory database. The copy is built in ``<path>.omendb-partial`` and renamed to
        ``path`` once it is durable, so after an error or a crash ``path`` does not exist (the
        next backup to it removes the partial folder). Cost: reading and writing every file of
        the database once."""
        self._check_open()
        self._engine.backup(os.fspath(path))

    def close(self) -> None:
        """Checkpoint (if anything changed), close and release the lock. Idempotent; later calls
        raise ``ClosedError``. Raises if the final checkpoint fails (the log still holds every
        acknowledged write, so nothing is lost)."""
        self._engine.close()

    @property
    def read_only(self) -> bool:
        return self._engine.read_only

    @property
    def closed(self) -> bool:
        return self._engine.closed

    def _check_open(self) -> None:
        if self._engine.closed:
            raise ClosedError(f"database {self.path!r} is closed")

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<omendb.Database {self.path!r} ({state})>"


class Collection:
    """Records (string id, vector, metadata) searchable by vector similarity."""

    def __init__(self, engine: "_core.Collection") -> None:
        self._engine = engine
        self._fields = fields_of(engine.vector_fields)
        self._sparse = list(engine.sparse_fields)
        self._text = text_field_of(engine.text)

    @property
    def name(self) -> str:
        return self._engine.name

    @property
    def dim(self) -> int:
        return self._engine.dim

    @property
    def metric(self) -> str:
        return self._engine.metric

    @property
    def quantization(self) -> str:
        """``"sq8"`` or ``"none"``: whether graph searches walk on 8-bit codes."""
        return self._engine.quantization

    @property
    def vector_fields(self) -> dict:
        """{name: omendb.VectorField or omendb.SparseField} of every vector field: the dense ones
        (the first, which every record has, first), then the sparse ones. A collection created
        with dim= has one, named "default"."""
        return {**self._fields, **{name: SparseField() for name in self._sparse}}

    @property
    def text(self) -> Optional[TextField]:
        """The collection's full-text settings, or None when it has no text index."""
        return self._text

    def tokenize(self, text: str) -> list[str]:
        """The terms the collection's analyzer makes of ``text``: what documents and text queries
        are indexed and searched as (docs/hybrid.md, "Tokenizer")."""
        if not isinstance(text, str):
            raise InvalidArgumentError(f"text must be a str, got {type(text).__name__}")
        return self._engine.tokenize(text)

    @property
    def m(self) -> int:
        """The graph's links per node (2m on the bottom level), fixed at creation."""
        return self._engine.m

    @property
    def ef_construction(self) -> int:
        """How many candidates each insert chooses its links among, fixed at creation."""
        return self._engine.ef_construction

    def __len__(self) -> int:
        if self._engine.closed:
            raise ClosedError(f"collection {self.name!r} is closed")
        return len(self._engine)

    def add(
        self,
        ids: Sequence[str],
        vectors: Any,
        metadata: Optional[Sequence[Optional[dict]]] = None,
        documents: Optional[Sequence[Optional[str]]] = None,
    ) -> None:
        """Insert records: all of them, or none when any is invalid.

        ids: list of unique, non-empty str. vectors: array-like of shape (len(ids), dim); with
        named vector fields, a dict {field: rows} that holds the first field, where a further
        field's rows may be omitted (no record has it) or be a list with None for the records
        that lack it. metadata: None or one dict per id (values: None, bool, int, float, str,
        list of str). documents: None or one str (or None: no document) per id, for a collection
        with text (``text=``), indexed for BM25 search. Raises DuplicateIdError (an id exists or
        repeats), DimensionError or InvalidArgumentError, changing nothing.
        """
        self._write(self._engine.add, ids, vectors, metadata, documents)

    def _write(self, method, ids, vectors, metadata, documents) -> None:
        """add/upsert through the engine's ``method``."""
        extra: dict = {}
        if documents is not None:
            extra["documents"] = _document_list(documents, len(_id_list(ids)))
        if not isinstance(vectors, dict):
            method(*_batch_arguments(ids, vectors, metadata, self.dim, self.name), **extra)
            return
        count = len(_id_list(ids))
        sparse = [sparse_rows(vectors[name], name, number, count)
                  for number, name in enumerate(self._sparse) if vectors.get(name) is not None]
        if sparse:
            extra["sparse"] = sparse
        vectors = {name: rows for name, rows in vectors.items() if name not in self._sparse}
        first, more = split_rows(
            vectors, self._fields, count,
            lambda values, field, dim: _matrix(values, f"vectors[{field!r}]", dim, self.name, field))
        if more:
            extra["more"] = more
        method(*_batch_arguments(ids, first, metadata, self.dim, self.name), **extra)

    def upsert(
        self,
        ids: Sequence[str],
        vectors: Any,
        metadata: Optional[Sequence[Optional[dict]]] = None,
        documents: Optional[Sequence[Optional[str]]] = None,
    ) -> None:
        """Insert records, replacing those whose ids exist (vector and metadata both).

        Takes the arguments of ``add``; all records are written or none. An id repeated within
        the batch raises DuplicateIdError.
        """
        self._write(self._engine.upsert, ids, vectors, metadata, documents)

    def delete(self, ids: Optional[Sequence[str]] = None, *, where: Filter = None) -> int:
        """Delete the records with these ids, or those matching ``where``; returns how many were
        deleted (ids that do not exist are skipped).

        From return on no search returns them; their graph neighbours are relinked around them.
        """
        if (ids is None) == (where is None):
            raise InvalidArgumentError("delete() takes ids or where=, exactly one of them")
        if where is not None:
            return self._engine.delete_where(where)
        return self._engine.delete(_id_list(ids))

    def compact(self) -> int:
        """Rebuild storage without deleted records; returns how many slots were reclaimed.

        Runs by itself once a quarter of the slots are deleted. Searches keep running meanwhile.
        """
        return self._engine.compact()

    def get(
        self, ids: Optional[Sequence[str]] = None, *, where: Filter = None, limit: Optional[int] = None
    ) -> list:
        """Records with ``.id``, ``.vector`` (float32, as stored: unit length for cosine),
        ``.metadata`` and ``.vectors`` ({field: vector} of every vector field the record has).

        get(ids): one per id, in the order asked, ``None`` for an id that does not exist.
        get(where=..., limit=None): the records matching the filter, oldest first, at most limit.
        """
        if (ids is None) == (where is None):
            raise InvalidArgumentError("get() takes ids or where=, exactly one of them")
        if where is not None:
            limit = _MAX_LIMIT if limit is None else _positive_int(limit, "limit")
            return self._engine.find(where, limit)
        if limit is not None:
            raise InvalidArgumentError("limit= goes with where=, not with ids")
        return self._engine.get(_id_list(ids))

    def count(self, where: Filter = None) -> int:
        """How many records match ``where`` (all of them when it is None)."""
        return self._engine.count(where)

    def search(
        self,
        vector: Any = None,
        k: int = 10,
        ef: Optional[int] = None,
        exact: bool = False,
        where: Filter = None,
        *,
        using: Optional[str] = None,
        text: Optional[str] = None,
        vectors: Optional[dict] = None,
        fusion: Any = None,
    ) -> list:
        """The k best records, best first, as hits with ``.id``, ``.distance`` (smaller is
        closer), ``.score``, ``.metadata`` (a dict) and ``.document``. Fewer than k only when the
        collection holds fewer (or, for text, fewer documents match).

        vector: the query vector: the k nearest records by the collection's metric.
        ef: candidate list size of the graph search (default max(64, k)); larger is slower and
        more accurate. exact=True scans every vector instead.
        where: only records whose metadata matches: a dict ({"year": {"$gte": 2020}}) or a str
        ("year >= 2020 AND tag IN ('news', 'blog')"); see docs/filters.md. Raises FilterError for
        a malformed one. k hits come back whenever k records match.
        using: the vector field searched, for a collection with named vector fields (default:
        the first); records that lack it are never returned. For a sparse field, ``vector`` is
        a dict ``{index: weight}`` and hits are the records sharing an index with it, by inner
        product (``.score``).
        text: a BM25 full-text query (a collection with text): alone, the k best documents
        (``.score`` is BM25, ``.distance`` its negative); with ``vector`` or ``vectors``, a hybrid
        search. vectors: {field: query vector} for several named fields at once (hybrid; a
        sparse field's query is a dict).
        fusion: how a hybrid search merges its signals: "rrf" (default; omendb.RRF(k=60)) or
        omendb.Weighted(vector=0.7, text=0.3); ``.score`` is then the fused score. docs/hybrid.md.
        """
        if text is None and vectors is None:
            if vector is None:
                raise InvalidArgumentError("search() needs a vector, vectors= or text=")
            return self._search_vector(vector, k, ef, exact, where, using)
        if vector is None and vectors is None:
            if using is not None or fusion is not None:
                raise InvalidArgumentError("a text-only search takes no using= or fusion=")
            return self._engine.search_text(_text_query(text), _positive_int(k, "k"), where)
        queries, sparse, signals = self._vector_queries(vector, vectors, using)
        if text is not None:
            signals.append(TEXT_SIGNAL)
        return self._engine.search_hybrid(
            queries, "" if text is None else _text_query(text), _positive_int(k, "k"), _ef(ef),
            bool(exact), where, fusion_settings(fusion, signals), sparse=sparse)

    def _search_vector(self, vector, k, ef, exact, where, using) -> list:
        """search(vector): one vector field's nearest records (a sparse field's best by inner
        product)."""
        if using in self._sparse:
            return self._engine.search_hybrid(
                [], "", _positive_int(k, "k"), _ef(ef), bool(exact), where,
                fusion_settings(None, [using]), sparse=[sparse_query(vector, using)])
        if using is not None:
            query = _query_vector(vector, self._field(using).dim, self.name, using)
            return self._engine.search(query, _positive_int(k, "k"), _ef(ef), bool(exact), where,
                                       field=using)
        hits = self._engine.search_fast(vector, k, ef, exact, where)  # the common call, unconverted
        if hits is not None:
            return hits
        query = _query_vector(vector, self.dim, self.name)
        return self._engine.search(query, _positive_int(k, "k"), _ef(ef), bool(exact), where)

    def _vector_queries(self, vector: Any, vectors: Optional[dict], using: Optional[str]) -> tuple:
        """The vector signals of a hybrid search: ([(field, query)], [sparse queries], [signal
        names]), the dense signals first, then the sparse ones (the engine's order)."""
        if vector is not None and vectors is not None:
            raise InvalidArgumentError("search() takes vector or vectors=, not both")
        if vectors is None:
            field = next(iter(self._fields)) if using is None else using
            if field in self._sparse:
                return [], [sparse_query(vector, field)], [field]
            return [(using or "", _query_vector(vector, self._field(field).dim, self.name, using))], [], [field]
        if using is not None:
            raise InvalidArgumentError("vectors= names its fields: pass it without using=")
        if not isinstance(vectors, dict) or not vectors:
            raise InvalidArgumentError("vectors must be a non-empty dict of field name -> query vector")
        sparse_names = [name for name in vectors if name in self._sparse]
        queries = [(name, _query_vector(query, self._field(name).dim, self.name, name))
                   for name, query in vectors.items() if name not in self._sparse]
        sparse = [sparse_query(vectors[name], name) for name in sparse_names]
        return queries, sparse, [name for name, _ in queries] + sparse_names

    def _field(self, using: Any) -> VectorField:
        """The field ``using`` names; InvalidArgumentError when none."""
        if not isinstance(using, str):
            raise InvalidArgumentError(f"using must be a str, got {type(using).__name__}")
        if using not in self._fields:
            raise InvalidArgumentError(
                f"unknown vector field {using!r}; collection {self.name!r} has {describe(self.vector_fields)}")
        return self._fields[using]

    def search_batch(
        self,
        vectors: Any = None,
        k: int = 10,
        ef: Optional[int] = None,
        exact: bool = False,
        where: Filter = None,
        *,
        using: Optional[str] = None,
        text: Optional[Sequence[str]] = None,
        fusion: Any = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Search many queries at once, on all cores.

        Returns (ids, distances): ``ids`` a NumPy str array of shape (n, k), ``distances`` float32
        of shape (n, k), each row best first. Where fewer than k hits come back, rows are padded
        with id "" and distance inf. using: as in search().
        The forms of search(): ``vectors`` a matrix (one query per row) or a dict {field: matrix}
        (hybrid, rows aligned), ``text`` a list of one query str per row (alone: BM25; with
        vectors: hybrid, fused by ``fusion``). For text and hybrid searches the distances are the
        negated scores.
        """
        if text is None and not isinstance(vectors, dict) and using not in self._sparse:
            field = {} if using is None else {"field": using}
            dim = self.dim if using is None else self._field(using).dim
            queries = _matrix(vectors, "vectors", dim, self.name, using)
            code_points, distances = self._engine.search_batch(
                queries, _positive_int(k, "k"), _ef(ef), bool(exact), where, **field
            )
            width = code_points.shape[2]
            ids = code_points.view(f"<U{width}").reshape(code_points.shape[0], code_points.shape[1])
            return ids, distances
        queries, signals = self._batch_queries(vectors, text, using)
        k = _positive_int(k, "k")
        rows = self._engine.search_hybrid_batch(queries, k, _ef(ef), bool(exact), where,
                                                fusion_settings(fusion, signals))
        ids = np.full((len(rows), k), "", dtype=object)
        distances = np.full((len(rows), k), np.inf, dtype=np.float32)
        for row, hits in enumerate(rows):
            ids[row, : len(hits)] = [hit.id for hit in hits]
            distances[row, : len(hits)] = [hit.distance for hit in hits]
        return ids.astype(str), distances

    def _batch_queries(self, vectors: Any, text: Optional[Sequence[str]], using: Optional[str]) -> tuple:
        """The hybrid queries of search_batch: ([(vector queries, sparse queries, text)], signal
        names)."""
        sparse: dict = {}
        if isinstance(vectors, dict):
            if using is not None:
                raise InvalidArgumentError("vectors= as a dict names its fields: pass it without using=")
            sparse = {name: _sparse_query_list(rows, name) for name, rows in vectors.items()
                      if name in self._sparse}
            matrices = {name: _matrix(rows, f"vectors[{name!r}]", self._field(name).dim, self.name, name)
                        for name, rows in vectors.items() if name not in self._sparse}
        elif vectors is not None and using in self._sparse:
            matrices, sparse = {}, {using: _sparse_query_list(vectors, using)}
        elif vectors is not None:
            name = next(iter(self._fields)) if using is None else using
            matrices = {name: _matrix(vectors, "vectors", self._field(name).dim, self.name, using)}
        else:
            matrices = {}
        counts = {len(rows) for rows in [*matrices.values(), *sparse.values()]}
        if text is not None:
            if isinstance(text, str) or not isinstance(text, Sequence):
                raise InvalidArgumentError("text must be a list of str, one per query")
            counts.add(len(text))
        if len(counts) != 1:
            raise InvalidArgumentError(f"the queries differ in number: {sorted(counts)}")
        count = counts.pop()
        texts = [""] * count if text is None else [_text_query(query) for query in text]
        queries = [([(name, matrix[row]) for name, matrix in matrices.items()],
                    [rows[row] for rows in sparse.values()], texts[row])
                   for row in range(count)]
        signals = list(matrices) + list(sparse) + ([] if text is None else [TEXT_SIGNAL])
        return queries, signals

    def __repr__(self) -> str:
        return f"<omendb.Collection {self.name!r} dim={self.dim} metric={self.metric} size={len(self)}>"


def _sparse_query_list(rows: Any, name: str) -> list:
    """The sparse queries of field ``name`` in search_batch: one per row."""
    if isinstance(rows, (str, bytes, dict)) or not isinstance(rows, Sequence):
        raise InvalidArgumentError(
            f"the queries of sparse field {name!r} must be a list of sparse vectors, one per query")
    return [sparse_query(row, name) for row in rows]
