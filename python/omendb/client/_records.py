"""Hit and Record as a client returns them. omendb.Hit and omendb.Record are C++ classes that
Python cannot construct, so the client has its own with the same attributes, repr and equality
(identity, as the engine's)."""

from __future__ import annotations

import numpy as np


class Hit:
    """A search result: ``.id`` (str), ``.distance`` (float, smaller is closer), ``.metadata`` (dict)."""

    __slots__ = ("id", "distance", "metadata")

    def __init__(self, id: str, distance: float, metadata: dict) -> None:
        self.id = id
        self.distance = distance
        self.metadata = metadata

    def __repr__(self) -> str:
        return f"Hit(id={self.id!r}, distance={self.distance!r}, metadata={self.metadata!r})"


class Record:
    """A stored record: ``.id`` (str), ``.vector`` (float32 array, as stored), ``.metadata`` (dict)."""

    __slots__ = ("id", "vector", "metadata")

    def __init__(self, id: str, vector: np.ndarray, metadata: dict) -> None:
        self.id = id
        self.vector = vector
        self.metadata = metadata

    def __repr__(self) -> str:
        return f"Record(id={self.id!r}, metadata={self.metadata!r})"
