"""Filtered search sweep: recall@10 and time per query at 50%, 10%, 1% and 0.1% selectivity, a
range filter and a nested $and/$or filter, against unfiltered search on the same collection.

Usage: python bench/filtered.py [--n 200000] [--dim 128] [--queries 200] [--rounds 5]
       python bench/filtered.py --siftsmall      # ../shared/data/siftsmall: 10,000 x 128, 100 queries
Ground truth: exact search over the matching rows (NumPy). Timings: single-threaded search() calls;
each round times one pass over the queries for every filter in turn, unfiltered first, so load on
the machine hits all of them alike; "x unfiltered" is the median over rounds of the ratio to the
unfiltered pass of the same round, with its min-max.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import omendb
from omendb.datasets import ClusteredSpec, clustered, split_queries

TAGS = ["news", "blog", "spam", "wiki"]


def make_metadata(n: int, seed: int) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """Metadata independent of the vectors: bucket 0..999 (selectivity by range), year, tag."""
    rng = np.random.default_rng(seed)
    bucket = rng.permutation(n) % 1000
    year = rng.integers(1995, 2025, n)
    tag = rng.integers(0, len(TAGS), n)
    metadata = [{"bucket": int(b), "year": int(y), "tag": TAGS[t]} for b, y, t in zip(bucket, year, tag)]
    return metadata, bucket, year, tag


def recall(collection, queries, base, mask, where) -> float:
    """recall@10 against exact search over the rows that match; checks every hit matches."""
    rows = np.flatnonzero(mask)
    found = 0
    for query in queries:
        distances = ((base[rows] - query) ** 2).sum(axis=1)
        truth = {str(i) for i in rows[np.argsort(distances)[:10]]}
        hits = collection.search(query, k=10, where=where)
        assert all(mask[int(hit.id)] for hit in hits), f"a hit does not match {where}"
        found += len({hit.id for hit in hits} & truth)
    return found / (len(queries) * min(10, len(rows)))


def time_rounds(collection, queries, cases, rounds) -> list[list[float]]:
    """Microseconds per query: times[case][round], the cases timed in turn within each round."""
    times = [[] for _ in cases]
    for _ in range(rounds):
        for i, (_, where, _) in enumerate(cases):
            start = time.perf_counter()
            for query in queries:
                collection.search(query, k=10, where=where)
            times[i].append((time.perf_counter() - start) / len(queries) * 1e6)
    return times


def load_siftsmall() -> tuple[np.ndarray, np.ndarray]:
    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "siftsmall"

    def fvecs(name: str) -> np.ndarray:
        raw = np.fromfile(root / name, dtype=np.int32)
        dim = raw[0]
        return raw.reshape(-1, dim + 1)[:, 1:].view(np.float32).copy()

    return fvecs("siftsmall_base.fvecs"), fvecs("siftsmall_query.fvecs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--siftsmall", action="store_true", help="../shared/data/siftsmall instead of generated data")
    args = parser.parse_args()

    if args.siftsmall:
        base, queries = load_siftsmall()
        described = "siftsmall"
    else:
        spec = ClusteredSpec(n=args.n + args.queries, dim=args.dim)
        base, queries = split_queries(clustered(spec), args.queries)
        described = f"clustered ({spec})"
    metadata, bucket, year, tag = make_metadata(len(base), seed=5)
    print(f"OmenDB {omendb.__version__}, {len(base):,} x {base.shape[1]} {described}, "
          f"{len(queries)} queries, k=10, default ef (64), {args.rounds} rounds")
    db = omendb.open(":memory:")
    collection = db.collection("bench", dim=base.shape[1])
    start = time.perf_counter()
    collection.add(ids=[str(i) for i in range(len(base))], vectors=base, metadata=metadata)
    print(f"built in {time.perf_counter() - start:.1f} s")

    cases = [("unfiltered", None, np.ones(len(base), bool))]
    for share, width in [("50%", 500), ("10%", 100), ("1%", 10), ("0.1%", 1)]:
        cases.append((f"bucket < {width} ({share})", {"bucket": {"$lt": width}}, bucket < width))
    cases.append(("range 2000 <= year < 2010", "year >= 2000 AND year < 2010", (year >= 2000) & (year < 2010)))
    nested = {"$and": [{"tag": {"$in": ["news", "blog"]}}, {"$or": [{"year": {"$lt": 1998}}, {"bucket": {"$lt": 20}}]}]}
    nested_mask = np.isin(tag, [0, 1]) & ((year < 1998) | (bucket < 20))
    cases.append(("nested $and/$or", nested, nested_mask))

    recalls = [recall(collection, queries, base, mask, where) for _, where, mask in cases]
    times = time_rounds(collection, queries, cases, args.rounds)
    print(f"{'filter':32} {'matches':>8} {'recall@10':>9} {'us/query':>9} {'x unfiltered [min-max]':>24}")
    for (name, _, mask), found, micros in zip(cases, recalls, times):
        ratios = [t / u for t, u in zip(micros, times[0])]
        spread = f"{statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"
        print(f"{name:32} {mask.mean():8.2%} {found:9.4f} {statistics.median(micros):9.1f} {spread:>24}")
    db.close()


if __name__ == "__main__":
    main()
