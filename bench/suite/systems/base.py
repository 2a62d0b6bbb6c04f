"""The interface every adapter implements; the worker times its calls.

An adapter wraps one system for one data set. The worker hands it the base vectors, their
metadata buckets and the settings, then calls the methods below; only the calls marked *timed*
are on the clock, so input conversion that a user would have done anyway (id strings, metadata
dicts, Arrow tables) stays off it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class Adapter:
    """Base class: stores the inputs; subclasses implement the operations."""

    def __init__(self, base: np.ndarray, buckets: np.ndarray, metric: str, settings: dict) -> None:
        """``base``: (n, dim) float32 vectors (row i has id i); ``buckets``: (n,) ints in 0..99
        (the filter field); ``metric``: "l2" or "cosine"; ``settings``: k, M, ef_construction,
        threads (build and batch search)."""
        self.base, self.buckets, self.metric = base, buckets, metric
        self.dim = base.shape[1]
        self.k = settings["k"]
        self.m = settings["M"]
        self.ef_construction = settings["ef_construction"]
        self.threads = settings["threads"]
        self.ef = 64  # until set_ef is called

    @staticmethod
    def unsupported() -> str | None:
        """Why the system cannot run on this machine, found before the run (the suite then lists it
        as not run, with this reason); None when it can. Most systems have no such limit."""
        return None

    def create(self, folder: Path, n: int) -> None:
        """An empty index or database for ``n`` vectors that will be saved in ``folder`` (untimed)."""
        raise NotImplementedError

    def prepare(self, lo: int, hi: int) -> Any:
        """The API's input for rows lo..hi (untimed): ids, vectors and, for databases, metadata."""
        raise NotImplementedError

    def insert(self, batch: Any) -> None:
        """Timed: adds one prepared batch. For databases it has returned with the durability the
        registry states."""
        raise NotImplementedError

    def finish(self) -> None:
        """Timed separately: work needed after the inserts before searches use an index (LanceDB
        builds its index here). Nothing for the others."""

    def set_ef(self, ef: int) -> None:
        """Sets the search candidate list for the following searches (untimed)."""
        self.ef = ef

    def search(self, query: np.ndarray) -> Any:
        """Timed: the k nearest to one query, on one thread."""
        raise NotImplementedError

    def search_batch(self, queries: np.ndarray) -> Any:
        """Timed: the k nearest to each query in one call, on ``threads`` threads where the
        system lets the caller choose."""
        raise NotImplementedError

    def search_filtered(self, query: np.ndarray, below: int) -> Any:
        """Timed (databases only): the k nearest among records with bucket < ``below``."""
        raise NotImplementedError

    def ids(self, result: Any) -> list[int]:
        """The row ids of one search result, best first (untimed)."""
        raise NotImplementedError

    def batch_ids(self, result: Any) -> np.ndarray:
        """(queries, k) row ids of one batch result; -1 where fewer than k came back (untimed)."""
        raise NotImplementedError

    def save(self) -> None:
        """Timed: writes the index to its folder (libraries) or closes the database (databases),
        so that ``open`` in a new process finds everything."""
        raise NotImplementedError

    def open(self, folder: Path) -> None:
        """Timed together with the first query: loads what ``save`` wrote, ready to search."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases the index or database (untimed; nothing is saved)."""

    def describe(self) -> dict:
        """Settings the system reports about itself after a build, recorded with the results."""
        return {}


def pad_ids(rows: list[list[int]], k: int) -> np.ndarray:
    """Rows of ids as a (len(rows), k) int64 array, padded with -1."""
    out = np.full((len(rows), k), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : min(k, len(row))] = row[:k]
    return out
