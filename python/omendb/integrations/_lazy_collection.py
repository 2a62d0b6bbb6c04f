"""The collection behind a framework's vector store: an OmenDB database opened at a path, holding
one named collection that is created, with the dimension of the first vectors added, on the first
write (frameworks give their embeddings' dimension only then)."""

from __future__ import annotations

import os
import threading
from typing import Optional, Union

import omendb
from omendb import NotFoundError


class LazyCollection:
    """Collection ``name`` (of ``metric``) in the database at ``path``: picked up if it exists
    (an existing one must have this metric), else created by ``with_dim``. Thread-safe."""

    def __init__(self, path: Union[str, os.PathLike], name: str, metric: str) -> None:
        self.name = name
        self.metric = metric
        self._lock = threading.Lock()  # serialises the collection's creation and dropping
        self.db = omendb.open(path)
        try:
            self._collection: Optional[omendb.Collection] = self.db.collection(name, metric=metric)
        except NotFoundError:
            self._collection = None
        except BaseException:
            self.db.close()
            raise

    def existing(self) -> Optional[omendb.Collection]:
        """The collection, or None before the first write; ``omendb.ClosedError`` once closed."""
        if self.db.closed:
            raise omendb.ClosedError(f"the OmenDB vector store of collection {self.name!r} is closed")
        return self._collection

    def with_dim(self, dim: int) -> omendb.Collection:
        """The collection, created with dimension ``dim`` if it does not exist yet."""
        with self._lock:
            if self.existing() is None:
                self._collection = self.db.collection(self.name, dim=dim, metric=self.metric)
            return self._collection

    def drop(self) -> None:
        """Drops the collection (if it exists); the next ``with_dim`` creates it anew."""
        with self._lock:
            if self.existing() is not None:
                self.db.drop_collection(self.name)
                self._collection = None

    def close(self) -> None:
        """Closes the database (checkpointing it); later calls raise ``omendb.ClosedError``."""
        self.db.close()
