"""zvec HNSW over RaBitQ codes (HnswRabitqIndexParam, zvec's defaults: 7 bits, 16 clusters) with the
float refiner re-scoring the max(k, ef) candidates. zvec accepts RaBitQ for 64 to 4,095 dimensions."""

from __future__ import annotations

import zvec

from .zvec_hnsw import METRICS, ZvecHnsw


class ZvecRabitqRefine(ZvecHnsw):
    """As zvec HNSW, with the RaBitQ index and query parameters."""

    refine = True

    def index_param(self):
        """HnswRabitqIndexParam with M and ef_construction."""
        return zvec.HnswRabitqIndexParam(metric_type=METRICS[self.metric], m=self.m,
                                         ef_construction=self.ef_construction)

    def query_param(self, ef: int):
        """HnswRabitqQueryParam at ``ef`` with the refiner."""
        return zvec.HnswRabitqQueryParam(ef=ef, is_using_refiner=self.refine)


ADAPTER = ZvecRabitqRefine
