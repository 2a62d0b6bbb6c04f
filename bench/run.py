"""Entry point of the benchmark suite (bench/suite/): OmenDB against hnswlib, FAISS, USearch, zvec,
VSAG, ScaNN and Intel SVS (float and quantized variants), Chroma, LanceDB, Qdrant local mode and the
earlier OmenDB from PyPI.

    python bench/run.py [--quick | --smoke] [--datasets A,B] [--systems A,B] [--out R.json]
    python bench/run.py report RESULTS.json [--out docs/benchmarks.md]

See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import cli, report  # noqa: E402

if __name__ == "__main__":
    if sys.argv[1:2] == ["report"]:
        sys.exit(report.main(sys.argv[2:]))
    sys.exit(cli.main())
