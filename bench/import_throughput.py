"""`omendb import` from .npy and from Parquet against the Python API's own add() in batches, on
the same vectors, in alternating rounds; rows/s per round, the median, and CLI/API ratios paired by
round (issue 13's acceptance: within 10% at 1,000,000 x 128).

    python bench/import_throughput.py                    # 1,000,000 x 128, 3 rounds (~20 min on 2 cores)
    python bench/import_throughput.py --n 200000 --rounds 2

The CLI runs as users run it (`python -m omendb import PATH COLLECTION FILE --create -q`, batches of
10,000, every row checked before the first write); the API loop reads the same .npy through a
memory map and calls add() with ids of row numbers, batches of 10,000. Needs pyarrow and click.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import omendb

BATCH = 10_000


def write_inputs(folder: Path, n: int, dim: int) -> None:
    """v.npy and v.parquet (id, vector) holding the same n random float32 rows."""
    vectors = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    np.save(folder / "v.npy", vectors)
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim)
    pq.write_table(pa.table({"id": [str(i) for i in range(n)], "vector": column}), folder / "v.parquet")


def api_seconds(folder: Path, inputs: Path) -> float:
    """Seconds for add() in batches of BATCH from the memory-mapped .npy into a new database."""
    started = time.perf_counter()
    data = np.load(inputs / "v.npy", mmap_mode="r")
    with omendb.open(folder) as db:
        collection = db.collection("c", dim=data.shape[1])
        for start in range(0, data.shape[0], BATCH):
            stop = min(start + BATCH, data.shape[0])
            collection.add([str(i) for i in range(start, stop)], data[start:stop])
    return time.perf_counter() - started


def cli_seconds(folder: Path, file: Path) -> float:
    """Seconds for `python -m omendb import` of ``file`` into a new database."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "omendb", "import", str(folder), "c", str(file), "--create", "-q",
                    "--batch-size", str(BATCH)], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omendb-import-bench-"))
    try:
        write_inputs(work, args.n, args.dim)
        systems = {
            "API add": lambda folder: api_seconds(folder, work),
            "CLI .npy": lambda folder: cli_seconds(folder, work / "v.npy"),
            "CLI .parquet": lambda folder: cli_seconds(folder, work / "v.parquet"),
        }
        rates: dict = {name: [] for name in systems}
        for round_number in range(args.rounds):
            names = list(systems)
            names = names[round_number % len(names):] + names[:round_number % len(names)]  # rotate the order
            for name in names:
                folder = work / "db"
                seconds = systems[name](folder)
                shutil.rmtree(folder)
                rates[name].append(args.n / seconds)
                print(f"round {round_number + 1} {name:13s} {seconds:7.1f} s {args.n / seconds:10,.0f} rows/s", flush=True)
        print(f"\n{args.n:,} x {args.dim}, {args.rounds} rounds, medians:")
        for name, values in rates.items():
            print(f"  {name:13s} {statistics.median(values):10,.0f} rows/s")
        for name in ("CLI .npy", "CLI .parquet"):
            paired = [cli / api for cli, api in zip(rates[name], rates["API add"])]
            print(f"  {name} / API add: median {statistics.median(paired):.3f} "
                  f"[{min(paired):.3f}-{max(paired):.3f}] (paired by round)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
