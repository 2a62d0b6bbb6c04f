"""The fixed cost of one search call: OmenDB's search() against hnswlib's knn_query on a tiny
index (10 vectors of 128 floats, k=10), where the search itself costs almost nothing, in
alternating rounds of 2,000 calls in one process; medians and the paired ratio.

    python bench/percall.py             # ~10 s
"""

from __future__ import annotations

import argparse
import time

import hnswlib
import numpy as np

import omendb


def per_call_us(call, queries: np.ndarray) -> float:
    """Microseconds per call of call(q) over the queries."""
    started = time.perf_counter()
    for q in queries:
        call(q)
    return (time.perf_counter() - started) / len(queries) * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=2000)
    args = p.parse_args()
    n, dim = 10, 128
    rng = np.random.default_rng(0)
    base = rng.standard_normal((n, dim)).astype(np.float32)
    queries = rng.standard_normal((args.calls, dim)).astype(np.float32)
    db = omendb.open(":memory:")
    col = db.collection("tiny", dim)
    col.add(ids=[str(i) for i in range(n)], vectors=base)
    index = hnswlib.Index("l2", dim)
    index.init_index(n, 16, 100)
    index.add_items(base)
    index.set_ef(64)
    index.set_num_threads(1)
    search, knn = col.search, index.knn_query
    omen, peer = [], []
    for _ in range(args.rounds):
        omen.append(per_call_us(lambda q: search(q, k=10, ef=64), queries))
        peer.append(per_call_us(lambda q: knn(q, k=10), queries))
    ratio = np.median(np.array(omen) / np.array(peer))
    print(f"tiny index ({n} x {dim}), k=10, {args.rounds} alternating rounds of {args.calls:,} calls: "
          f"OmenDB search() {np.median(omen):.2f} us [{min(omen):.2f}-{max(omen):.2f}], hnswlib knn_query "
          f"{np.median(peer):.2f} us [{min(peer):.2f}-{max(peer):.2f}]; paired OmenDB/hnswlib {ratio:.2f}x")


if __name__ == "__main__":
    main()
