"""Hit and Record as a client returns them. omendb.Hit and omendb.Record are C++ classes that
Python cannot construct, so the client has its own with the same attributes, repr and equality
(identity, as the engine's)."""

from __future__ import annotations

from typing import Optional

import numpy as np


class Hit:
    """A search result: ``.id`` (str), ``.distance`` (float, smaller is closer), ``.metadata`` (dict),
    ``.score`` (BM25 or fused for text and hybrid searches, -distance otherwise) and ``.document``."""

    __slots__ = ("id", "distance", "metadata", "score", "document")

    def __init__(self, id: str, distance: float, metadata: dict, score: Optional[float] = None,
                 document: Optional[str] = None) -> None:
        self.id = id
        self.distance = distance
        self.metadata = metadata
        self.score = -distance if score is None else score
        self.document = document

    def __repr__(self) -> str:
        return f"Hit(id={self.id!r}, distance={self.distance!r}, metadata={self.metadata!r})"


class Record:
    """A stored record: ``.id`` (str), ``.vector`` (float32 array, as stored), ``.metadata`` (dict),
    ``.vectors`` ({"default": vector}: a served collection has one field) and ``.document``."""

    __slots__ = ("id", "vector", "metadata", "document")

    def __init__(self, id: str, vector: np.ndarray, metadata: dict, document: Optional[str] = None) -> None:
        self.id = id
        self.vector = vector
        self.metadata = metadata
        self.document = document

    @property
    def vectors(self) -> dict:
        return {"default": self.vector}

    def __repr__(self) -> str:
        return f"Record(id={self.id!r}, metadata={self.metadata!r})"
