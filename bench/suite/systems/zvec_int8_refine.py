"""zvec HNSW over int8 codes with the float refiner: HnswQueryParam(is_using_refiner=True) re-scores
the max(k, ef) candidates of the code search with the float vectors."""

from __future__ import annotations

from .zvec_int8 import ZvecInt8


class ZvecInt8Refine(ZvecInt8):
    """As zvec int8, with is_using_refiner=True."""

    refine = True


ADAPTER = ZvecInt8Refine
