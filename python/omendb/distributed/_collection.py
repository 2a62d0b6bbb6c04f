"""A collection sharded over Ray actors, with the methods of an embedded omendb.Collection.

get/add/upsert/delete by id go to the shards that hold the ids (routing: _routing.py); search,
count and filters go to every shard in parallel, and their answers are merged exactly: the k
nearest of all shards' k nearest are the k nearest overall.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .._api import Filter
from .._arguments import _batch_arguments, _ef, _id_list, _matrix, _positive_int, _query_vector
from .._errors import ClosedError, DuplicateIdError, InvalidArgumentError
from ..client._records import Hit, Record
from . import _routing
from ._dataset import add_dataset
from ._shards import ShardSet


class Collection:
    """Records spread over shards by id; see omendb.Collection for each method's contract. What
    differs: a batch is atomic on each shard, not across shards (see docs/distributed.md)."""

    def __init__(self, name: str, options: dict, shards: ShardSet) -> None:
        self._name = name
        self._options = options
        self._shards = shards
        self._closed = False

    # --- properties

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._options["dim"]

    @property
    def metric(self) -> str:
        return self._options["metric"]

    @property
    def quantization(self) -> str:
        return self._options["quantization"]

    @property
    def m(self) -> int:
        return self._options["m"]

    @property
    def ef_construction(self) -> int:
        return self._options["ef_construction"]

    @property
    def shards(self) -> int:
        return self._options["shards"]

    @property
    def replicas(self) -> int:
        return self._options["replicas"]

    def __len__(self) -> int:
        return self.count()

    # --- writes

    def add(self, ids: Sequence[str], vectors: Any, metadata: Optional[Sequence[Optional[dict]]] = None) -> None:
        """Inserts records; raises DuplicateIdError, changing nothing, when an id exists."""
        ids, matrix, metadata = self._batch(ids, vectors, metadata)
        parts = _routing.split(ids, self._shards.count)
        present = self._present(ids, parts)
        if present:
            raise DuplicateIdError(f"id {present[0]!r} already exists")
        self._write("add", ids, matrix, metadata, parts)

    def upsert(self, ids: Sequence[str], vectors: Any, metadata: Optional[Sequence[Optional[dict]]] = None) -> None:
        """Inserts records, replacing those whose ids exist."""
        ids, matrix, metadata = self._batch(ids, vectors, metadata)
        self._write("upsert", ids, matrix, metadata, _routing.split(ids, self._shards.count))

    def delete(self, ids: Optional[Sequence[str]] = None, *, where: Filter = None) -> int:
        """Deletes by ids (on their shards) or by filter (on every shard); returns how many."""
        self._check_open()
        if (ids is None) == (where is None):
            raise InvalidArgumentError("delete() takes ids or where=, exactly one of them")
        if where is not None:
            return sum(self._shards.write_all(lambda actor: actor.delete.remote(None, where)))
        ids = list(_id_list(ids))
        parts = _routing.split(ids, self._shards.count)
        results = self._shards.write(
            {shard: _bind("delete", [ids[i] for i in rows], None) for shard, rows in parts.items()}
        )
        return sum(results.values())

    def add_dataset(
        self,
        dataset: Any,
        *,
        id_column: str,
        vector_column: str,
        metadata_columns: Optional[Sequence[str]] = None,
        batch_size: int = 10_000,
        upsert: bool = False,
        progress: bool = True,
    ) -> int:
        """Writes a ``ray.data.Dataset`` (from Parquet, say) into the shards, its blocks in
        parallel over the cluster, each batch split by id as add() splits it; returns the rows
        written. upsert=True makes the load one that can simply run again after an
        interruption. Shows a progress bar unless progress=False."""
        self._check_open()
        return add_dataset(
            self,
            dataset,
            id_column=id_column,
            vector_column=vector_column,
            metadata_columns=metadata_columns,
            batch_size=_positive_int(batch_size, "batch_size"),
            upsert=bool(upsert),
            progress=bool(progress),
        )

    def compact(self) -> int:
        self._check_open()
        return sum(self._shards.write_all(lambda actor: actor.compact.remote()))

    # --- reads

    def get(self, ids: Optional[Sequence[str]] = None, *, where: Filter = None, limit: Optional[int] = None) -> list:
        """get(ids): one record per id in the order asked, None where absent. get(where=...,
        limit=...): matching records, each shard's oldest first, shard after shard."""
        self._check_open()
        if (ids is None) == (where is None):
            raise InvalidArgumentError("get() takes ids or where=, exactly one of them")
        if where is not None:
            limit = None if limit is None else _positive_int(limit, "limit")
            found = [row for rows in self._shards.read_all(lambda actor: actor.find.remote(where, limit)) for row in rows]
            return [Record(*row) for row in found[:limit]]
        if limit is not None:
            raise InvalidArgumentError("limit= goes with where=, not with ids")
        ids = list(_id_list(ids))
        parts = _routing.split(ids, self._shards.count)
        answers = self._shards.read({shard: _bind("get", [ids[i] for i in rows]) for shard, rows in parts.items()})
        records: list = [None] * len(ids)
        for shard, rows in parts.items():
            for position, row in zip(rows, answers[shard]):
                records[position] = None if row is None else Record(*row)
        return records

    def count(self, where: Filter = None) -> int:
        self._check_open()
        return sum(self._shards.read_all(lambda actor: actor.count.remote(where)))

    def search(self, vector: Any, k: int = 10, ef: Optional[int] = None, exact: bool = False, where: Filter = None) -> list:
        """The k nearest records over all shards, best first (each shard's k nearest, merged)."""
        self._check_open()
        query = _query_vector(vector, self.dim, self.name)
        k, ef = _positive_int(k, "k"), (None if ef is None else _ef(ef))
        answers = self._shards.read_all(lambda actor: actor.search.remote(query, k, ef, bool(exact), where))
        merged = sorted((hit for hits in answers for hit in hits), key=lambda hit: hit[1])
        return [Hit(*hit) for hit in merged[:k]]

    def search_batch(
        self, vectors: Any, k: int = 10, ef: Optional[int] = None, exact: bool = False, where: Filter = None
    ) -> tuple:
        """(ids, distances) of shape (n, k), rows best first, padded with "" and inf."""
        self._check_open()
        queries = _matrix(vectors, "vectors", self.dim, self.name)
        k, ef = _positive_int(k, "k"), (None if ef is None else _ef(ef))
        answers = self._shards.read_all(lambda actor: actor.search_batch.remote(queries, k, ef, bool(exact), where))
        ids = np.concatenate([a[0].astype(object) for a in answers], axis=1)
        distances = np.concatenate([a[1] for a in answers], axis=1)
        order = np.argsort(distances, axis=1, kind="stable")[:, :k]
        best_ids = np.take_along_axis(ids, order, axis=1)
        width = max([1] + [len(i) for i in best_ids.ravel()])
        return best_ids.astype(f"<U{width}"), np.take_along_axis(distances, order, axis=1)

    # --- helpers

    def _present(self, ids: list, parts: dict) -> list:
        """The ids of ``ids`` that some shard holds."""
        answers = self._shards.write({shard: _bind("get", [ids[i] for i in rows]) for shard, rows in parts.items()})
        return [row[0] for rows in answers.values() for row in rows if row is not None]

    def _write(self, method: str, ids: list, matrix: np.ndarray, metadata: Optional[list], parts: dict) -> None:
        calls = {}
        for shard, rows in parts.items():
            part_metadata = None if metadata is None else [metadata[i] for i in rows]
            calls[shard] = _bind(method, [ids[i] for i in rows], matrix[rows], part_metadata)
        self._shards.write(calls)

    def _batch(self, ids: Any, vectors: Any, metadata: Any) -> tuple:
        """The embedded add()'s checks and conversions, then the engine's own (_routing)."""
        self._check_open()
        ids, matrix, metadata = _batch_arguments(ids, vectors, metadata, self.dim, self.name)
        ids = list(ids)
        _routing.check_batch(ids, metadata)
        _routing.check_finite(matrix, "vectors")
        return ids, matrix, metadata

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"collection {self.name!r} is closed")

    def _stop(self, destroy: bool) -> None:
        """Closes every shard (checkpointing it), or with ``destroy`` deletes its folder, and
        stops the actors."""
        import ray

        if self._closed:
            return
        self._closed = True
        try:
            self._shards.write_all(lambda actor: actor.destroy.remote() if destroy else actor.close.remote())
        finally:
            for actor in self._shards.actors:
                ray.kill(actor, no_restart=True)

    def __repr__(self) -> str:
        return f"<omendb.distributed.Collection {self.name!r} dim={self.dim} shards={self.shards}>"


def _bind(method: str, *args: Any):
    """A call of ``method`` with ``args`` on whichever actor handle it is given."""
    return lambda actor: getattr(actor, method).remote(*args)
