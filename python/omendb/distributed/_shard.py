"""One shard of a distributed collection: an ordinary on-disk OmenDB database in its own folder,
owned by a Ray actor process (see _cluster.py for how the actors are created and placed).

A primary opens the folder for writing and acknowledges a write once its log holds it
(``sync="full"``). A replica opens the same folder read-only (on the same node, or on storage
every replica's node shares) and refreshes before each read, so it answers with every write the
primary acknowledged before the read began.

Results cross the process boundary as plain Python values (tuples, lists, NumPy arrays), since
the engine's Hit and Record objects are not picklable; the client turns them back into objects.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .._api import open as open_database


class Shard:
    """The body of a shard actor: a collection ``name`` in the database folder ``path``."""

    def __init__(self, path: str, name: str, options: dict, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        if read_only:
            self.db = open_database(path, read_only=True)
        else:
            Path(path).mkdir(parents=True, exist_ok=True)
            threads = max(1, int(options.get("cpus_per_shard", 1)))
            self.db = open_database(path, sync=options.get("sync", "full"), threads=threads)
        create = {} if read_only else {
            key: options[key] for key in ("dim", "metric", "m", "ef_construction", "quantization")
        }
        self.col = self.db.collection(name, **create)

    # --- identity (for tests, placement and kill tests)

    def where(self) -> dict:
        """The process and node of this actor."""
        import ray

        return {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id()}

    # --- writes (primary only)

    def add(self, ids: list, vectors: np.ndarray, metadata: Optional[list]) -> int:
        """Adds the batch; a batch already stored exactly as given (the retry of an add whose
        acknowledgement was lost when this actor died) is accepted as done. Returns the records
        written now."""
        try:
            self.col.add(ids, vectors, metadata)
            return len(ids)
        except Exception as error:
            from .._errors import DuplicateIdError

            if isinstance(error, DuplicateIdError) and self._stored_exactly(ids, vectors, metadata):
                return 0
            raise

    def upsert(self, ids: list, vectors: np.ndarray, metadata: Optional[list]) -> int:
        self.col.upsert(ids, vectors, metadata)
        return len(ids)

    def delete(self, ids: Optional[list], where: Any) -> int:
        return self.col.delete(ids) if ids is not None else self.col.delete(where=where)

    def checkpoint(self) -> None:
        self.db.checkpoint()

    def compact(self) -> int:
        return self.col.compact()

    def close(self) -> None:
        self.db.close()

    def destroy(self) -> None:
        """Closes the database and deletes its folder (on this actor's node)."""
        self.db.close()
        shutil.rmtree(self.path, ignore_errors=True)

    # --- reads (primary or replica)

    def count(self, where: Any) -> int:
        self._catch_up()
        return self.col.count(where)

    def get(self, ids: list) -> list:
        """(id, vector, metadata) per id, None where absent."""
        self._catch_up()
        return [None if r is None else (r.id, r.vector, r.metadata) for r in self.col.get(ids)]

    def find(self, where: Any, limit: Optional[int]) -> list:
        self._catch_up()
        return [(r.id, r.vector, r.metadata) for r in self.col.get(where=where, limit=limit)]

    def search(self, vector: np.ndarray, k: int, ef: Optional[int], exact: bool, where: Any) -> list:
        """(id, distance, metadata) of the k nearest, best first."""
        self._catch_up()
        return [(h.id, h.distance, h.metadata) for h in self.col.search(vector, k, ef, exact, where)]

    def search_batch(self, vectors: np.ndarray, k: int, ef: Optional[int], exact: bool, where: Any) -> tuple:
        self._catch_up()
        return self.col.search_batch(vectors, k, ef, exact, where)

    def _catch_up(self) -> None:
        if self.read_only:
            self.db.refresh()

    def _stored_exactly(self, ids: list, vectors: np.ndarray, metadata: Optional[list]) -> bool:
        """Whether every record of the batch is stored with its metadata and vector (for cosine,
        its direction: the engine stores it normalised)."""
        for i, record in enumerate(self.col.get(ids)):
            if record is None or record.metadata != (metadata[i] if metadata is not None else {}):
                return False
            given = np.asarray(vectors[i], dtype=np.float32)
            if self.col.metric == "cosine":
                norm = np.linalg.norm(given.astype(np.float64))
                if norm == 0 or not np.allclose(record.vector, given / norm, rtol=0, atol=1e-6):
                    return False
            elif not np.array_equal(record.vector, given):
                return False
        return True
