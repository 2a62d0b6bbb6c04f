"""OmenDB as an index library with quantization="sq8": the graph walks 8-bit codes (one byte per
dimension, kept beside the floats) and re-ranks its best candidates with the floats."""

from __future__ import annotations

from .omendb_memory import OmenDB


class OmenDBSQ8(OmenDB):
    """As the library adapter, with collection(..., quantization="sq8")."""

    quantization = "sq8"


ADAPTER = OmenDBSQ8
