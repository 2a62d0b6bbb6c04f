"""Resident memory of an on-disk collection as a reopened database serves it (issue 11's memory
model): builds clustered n x dim vectors into a folder in each quantization mode, closes it (which
checkpoints), then in a fresh process measures resident memory before omendb.open(), after it,
and after 1,000 queries, as heap (RssAnon) and mapped file pages (RssFile: the page cache's copy
of the snapshot, reclaimable), per vector in total (not minus the floats) and against the floats.

    python bench/memory.py --n 100000 --dim 128          # ~1 minute on 2 cores
    python bench/memory.py --n 1000000 --dim 768 --modes sq8
    python bench/memory.py --n 100000 --dim 768 --limit-mb 200   # larger than the memory allowed
    python bench/memory.py --n 100000 --dim 128 --modes sq8 --map-floats   # re-rank through the map

--limit-mb runs the serving process in a cgroup (v1 memory controller; root) whose memory, page
cache included, is capped, after dropping the OS page cache: a collection whose floats exceed the
cap still serves if what it must hold (codes, graph, ids) fits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import omendb
from omendb.datasets import ClusteredSpec, clustered

QUERIES = 1000


def rss_bytes() -> dict:
    """This process's resident memory: anonymous (heap: what only this process holds) and file
    pages mapped from the page cache (clean, so the kernel can take them back under pressure)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {key: int(fields[field].split()[0]) * 1024 for key, field in (("anon", "RssAnon"), ("file", "RssFile"))}


def delta(after: dict, before: dict) -> dict:
    return {key: after[key] - before[key] for key in after}


CGROUP_ROOT = Path("/sys/fs/cgroup/memory")


def confine(limit_mb: int) -> Path:
    """Moves this process into a new memory cgroup capped at limit_mb (page cache included), after
    dropping the page cache, so the snapshot's pages are read (and charged) here."""
    Path("/proc/sys/vm/drop_caches").write_text("1")
    group = CGROUP_ROOT / f"omendb-bench-{os.getpid()}"
    group.mkdir()
    (group / "memory.limit_in_bytes").write_text(str(limit_mb << 20))
    (group / "cgroup.procs").write_text(str(os.getpid()))
    return group


def serve(folder: str, queries_path: str, ef: int, limit_mb: int, map_floats: bool) -> dict:
    """In a fresh process (capped at limit_mb when > 0): open the database, answer every query,
    report resident memory and the time per query."""
    queries = np.load(queries_path)
    if limit_mb:
        confine(limit_mb)
    before = rss_bytes()
    started = time.perf_counter()
    db = omendb.open(folder, map_floats=map_floats)
    col = db.collection("bench")
    opened = time.perf_counter() - started
    after_open = rss_bytes()
    started = time.perf_counter()
    for q in queries:
        col.search(q, k=10, ef=ef)
    return {"open_s": opened, "query_ms": (time.perf_counter() - started) / len(queries) * 1e3, "rss_open": delta(after_open, before), "rss_queried": delta(rss_bytes(), before),
            "n": len(col), "dim": col.dim, "quantization": col.quantization}


def build(folder: Path, base: np.ndarray, quantization: str) -> float:
    """Fills a new database in `folder` and closes it (a checkpoint); returns the build seconds."""
    db = omendb.open(str(folder), sync="off")
    col = db.collection("bench", dim=base.shape[1], quantization=quantization)
    ids = [str(i) for i in range(len(base))]
    started = time.perf_counter()
    for lo in range(0, len(base), 100_000):
        col.add(ids=ids[lo:lo + 100_000], vectors=base[lo:lo + 100_000])
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--ef", type=int, default=64)
    p.add_argument("--modes", default="none,sq8")
    p.add_argument("--dir", type=Path, default=None, help="where the databases go (default: a temp folder)")
    p.add_argument("--limit-mb", type=int, default=0, help="cap the serving process's memory (cgroup v1, root)")
    p.add_argument("--map-floats", action="store_true", help="serve with omendb.open(map_floats=True)")
    p.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)  # the child process: folder, queries, ef
    args = p.parse_args()
    if args.serve:
        print(json.dumps(serve(args.serve[0], args.serve[1], int(args.serve[2]), args.limit_mb, args.map_floats)))
        return
    data = clustered(ClusteredSpec(n=args.n + QUERIES, dim=args.dim, seed=0))
    base, queries = data[:args.n], data[args.n:]
    floats = 4 * args.dim
    cap = f"; serving capped at {args.limit_mb} MiB (cgroup, page cache included)" if args.limit_mb else ""
    print(f"clustered {args.n:,} x {args.dim}; {QUERIES:,} queries at ef={args.ef}; "
          f"floats are {floats} B/vector ({args.n * floats / 2**20:,.0f} MiB){cap}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        queries_path = str(Path(tmp) / "queries.npy")
        np.save(queries_path, queries)
        for mode in args.modes.split(","):
            folder = Path(tmp) / mode
            seconds = build(folder, base, mode)
            out = subprocess.run([sys.executable, __file__, "--serve", str(folder), queries_path, str(args.ef),
                                  "--limit-mb", str(args.limit_mb)] + ["--map-floats"] * args.map_floats, capture_output=True, text=True)
            if out.returncode != 0:
                why = "killed (out of memory)" if out.returncode == -9 else out.stderr.strip().splitlines()[-1]
                print(f"{mode:5s} build {args.n / seconds:9,.0f} v/s | serving failed: {why}")
                continue
            r = json.loads(out.stdout)
            opened, queried = r["rss_open"], r["rss_queried"]
            total = (queried["anon"] + queried["file"]) / args.n
            print(f"{mode:5s} build {args.n / seconds:9,.0f} v/s | open {r['open_s']:.2f} s | "
                  f"{r['query_ms']:.3f} ms/query | B/vector resident "
                  f"after open: heap {opened['anon'] / args.n:6.1f} + mapped {opened['file'] / args.n:6.1f}; after "
                  f"queries: heap {queried['anon'] / args.n:6.1f} + mapped {queried['file'] / args.n:6.1f} = "
                  f"{total:6.1f} ({total / floats:.0%} of the floats)")


if __name__ == "__main__":
    main()
