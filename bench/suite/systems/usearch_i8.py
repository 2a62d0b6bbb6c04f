"""USearch with dtype="i8": 8-bit storage, searched without re-ranking. USearch scales each vector
to unit length before casting it (times 127) to int8, whatever the metric, so with "l2sq" it ranks
by angle rather than by distance."""

from __future__ import annotations

from .usearch_index import USearch


class USearchI8(USearch):
    """As the float32 adapter, with Index(..., dtype="i8")."""

    dtype = "i8"


ADAPTER = USearchI8
