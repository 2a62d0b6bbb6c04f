"""Intel SVS Vamana over LVQ-4x8 codes: the graph walks 4-bit codes (one scale and offset per
vector) and the 8-bit residual codes refine the candidates' distances. SVS compresses from a vector
file, so the timed build writes the base as .fvecs into the folder first and deletes it after.
SVS refuses LVQ on CPUs other than Intel's; unsupported() finds that out with a tiny build."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import svs

from .svs_vamana import DISTANCES, SvsVamana

PRIMARY_BITS, RESIDUAL_BITS = 4, 8


def lvq_loader(path: Path):
    """The LVQ-4x8 loader compressing the float32 vectors of the file at ``path``."""
    return svs.LVQLoader(svs.VectorDataLoader(str(path), svs.DataType.float32), primary=PRIMARY_BITS,
                         residual=RESIDUAL_BITS)


class SvsLVQ(SvsVamana):
    """As SVS Vamana, over LVQ-4x8 codes."""

    @staticmethod
    def unsupported() -> str | None:
        """SVS's own error when it refuses an LVQ build on this CPU (a tiny one, 256 x 16); else None."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "probe.fvecs"
            svs.write_vecs(np.random.default_rng(0).random((256, 16), dtype=np.float32), str(path))
            try:
                svs.Vamana.build(svs.VamanaBuildParameters(graph_max_degree=8, window_size=16), lvq_loader(path),
                                 svs.DistanceType.L2)
            except Exception as error:  # SVS raises several types; any of them means no LVQ here
                return f"SVS refuses an LVQ build on this machine: {type(error).__name__}: {error}"
        return None

    def insert(self, batch) -> None:
        """Writes the vectors as .fvecs, Vamana.build from the LVQ loader of that file, deletes it."""
        path = self.folder / "base.fvecs"
        svs.write_vecs(batch, str(path))
        self._ready(svs.Vamana.build(self._build_parameters(), lvq_loader(path), DISTANCES[self.metric],
                                     num_threads=self.threads))
        path.unlink()

    def _data_loader(self, path: Path):
        """The saved LVQ codes."""
        return svs.LVQLoader(str(path))


ADAPTER = SvsLVQ
