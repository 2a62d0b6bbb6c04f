"""zvec HNSW over int8 codes (quantize_type=INT8), without re-ranking: the graph is searched on the
codes and their distances rank the results."""

from __future__ import annotations

import zvec

from .zvec_hnsw import ZvecHnsw


class ZvecInt8(ZvecHnsw):
    """As zvec HNSW, with HnswIndexParam(..., quantize_type=INT8)."""

    quantize = zvec.QuantizeType.INT8


ADAPTER = ZvecInt8
