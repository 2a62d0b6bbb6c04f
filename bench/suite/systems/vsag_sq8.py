"""VSAG HGraph over 8-bit scalar codes with float32 re-ranking: base_quantization_type "sq8" (the
graph walks the codes), use_reorder with precise_quantization_type "fp32" (the candidates are
re-ranked with the float vectors)."""

from __future__ import annotations

from .vsag_hgraph import VsagHGraph


class VsagSQ8(VsagHGraph):
    """As VSAG HGraph, with sq8 codes and an fp32 reorder."""

    codes = {"base_quantization_type": "sq8", "use_reorder": True, "precise_quantization_type": "fp32"}


ADAPTER = VsagSQ8
