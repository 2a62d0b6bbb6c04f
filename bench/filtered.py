"""Filtered search sweep: recall@10 and time per query at 50%, 10%, 1% and 0.1% selectivity, a
range filter and a nested $and/$or filter, against unfiltered search on the same collection.

Usage: python bench/filtered.py [--n 200000] [--dim 128] [--queries 200] [--rounds 3]
Ground truth: exact search over the matching rows (NumPy). Timings: median of --rounds passes over
the queries, single-threaded search() calls.
"""

from __future__ import annotations

import argparse
import statistics
import time

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


def recall_and_time(collection, queries, base, mask, where, rounds) -> tuple[float, float]:
    """(recall@10 against exact filtered truth, median microseconds per query)."""
    rows = np.flatnonzero(mask)
    found = 0
    for query in queries:
        distances = ((base[rows] - query) ** 2).sum(axis=1)
        truth = {str(i) for i in rows[np.argsort(distances)[:10]]}
        found += len({hit.id for hit in collection.search(query, k=10, where=where)} & truth)
    recall = found / (len(queries) * min(10, len(rows)))
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for query in queries:
            collection.search(query, k=10, where=where)
        times.append((time.perf_counter() - start) / len(queries) * 1e6)
    return recall, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    spec = ClusteredSpec(n=args.n + args.queries, dim=args.dim)
    base, queries = split_queries(clustered(spec), args.queries)
    metadata, bucket, year, tag = make_metadata(len(base), seed=5)
    print(f"OmenDB {omendb.__version__}, {len(base):,} x {args.dim} clustered ({spec}), "
          f"{args.queries} queries, k=10, default ef (64)")
    db = omendb.open(":memory:")
    collection = db.collection("bench", dim=args.dim)
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

    print(f"{'filter':32} {'matches':>8} {'recall@10':>9} {'us/query':>9} {'x unfiltered':>12}")
    unfiltered_us = None
    for name, where, mask in cases:
        recall, micros = recall_and_time(collection, queries, base, mask, where, args.rounds)
        unfiltered_us = unfiltered_us or micros
        print(f"{name:32} {mask.mean():8.2%} {recall:9.4f} {micros:9.1f} {micros / unfiltered_us:11.2f}x")
    db.close()


if __name__ == "__main__":
    main()
