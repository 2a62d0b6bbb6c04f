"""The demo (``python -m omendb.demo``): build a collection from generated embedding-like vectors
in a database folder, search it one query at a time and in a batch, close and reopen it, and print
recall against exact search and the throughput of each step."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import omendb
from omendb.datasets import ClusteredSpec, clustered, exact_neighbors, split_queries


def recall_at_k(found_ids: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true k nearest (row indices) among the found ids (their str form)."""
    k = truth.shape[1]
    hits = sum(len(set(map(int, row)) & set(true_row.tolist())) for row, true_row in zip(found_ids, truth))
    return hits / (len(truth) * k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000, help="vectors to insert")
    parser.add_argument("--dim", type=int, default=128, help="dimension")
    parser.add_argument("--queries", type=int, default=1_000, help="queries to run")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--ef", type=int, default=64, help="search candidate list size")
    parser.add_argument("--path", help="database folder (default: a new temporary folder)")
    args = parser.parse_args()

    spec = ClusteredSpec(n=args.n + args.queries, dim=args.dim)
    print(f"OmenDB {omendb.__version__} (SIMD kernels: {omendb.simd_isa()})")
    print(f"data: {args.n:,} x {args.dim} clustered vectors ({spec.clusters} clusters in a "
          f"{spec.latent_dim}-d latent space, seed {spec.seed}), {args.queries:,} held-out queries")
    base, queries = split_queries(clustered(spec), args.queries)
    truth = exact_neighbors(base, queries, args.k)
    ids = [str(i) for i in range(len(base))]
    metadata = [{"cluster_bucket": i % 10, "even": i % 2 == 0} for i in range(len(base))]

    with tempfile.TemporaryDirectory(prefix="omendb-demo-") as scratch:
        path = args.path or os.path.join(scratch, "demo.omendb")
        print(f"database:     {path}")
        with omendb.open(path) as db:
            docs = db.collection("demo", dim=args.dim, metric="l2")
            start = time.perf_counter()
            for first in range(0, len(base), 10_000):
                chunk = slice(first, first + 10_000)
                docs.add(ids=ids[chunk], vectors=base[chunk], metadata=metadata[chunk])
            seconds = time.perf_counter() - start
            print(f"add:          {len(docs):,} records in {seconds:.2f} s = {len(docs) / seconds:,.0f} vectors/s "
                  f"(batches of 10,000, each on disk before add returns)")

            start = time.perf_counter()
            single = [[hit.id for hit in docs.search(q, k=args.k, ef=args.ef)] for q in queries]
            seconds = time.perf_counter() - start
            print(f"search:       {len(queries) / seconds:,.0f} queries/s one at a time "
                  f"({seconds / len(queries) * 1e6:.0f} us each), recall@{args.k} = "
                  f"{recall_at_k(np.array(single), truth):.4f} at ef={args.ef}")

            start = time.perf_counter()
            batch_ids, _ = docs.search_batch(queries, k=args.k, ef=args.ef)
            seconds = time.perf_counter() - start
            print(f"search_batch: {len(queries) / seconds:,.0f} queries/s on all cores, recall@{args.k} = "
                  f"{recall_at_k(batch_ids, truth):.4f}")

            start = time.perf_counter()
            db.checkpoint()
            print(f"checkpoint:   {time.perf_counter() - start:.2f} s")

        start = time.perf_counter()
        with omendb.open(path, read_only=True) as db:
            docs = db.collection("demo")
            hit = docs.search(queries[0], k=1)[0]
            seconds = time.perf_counter() - start
            on_disk = sum(file.stat().st_size for file in Path(path).rglob("*") if file.is_file())
            print(f"reopen:       {len(docs):,} records, first query answered after {seconds * 1e3:.0f} ms; "
                  f"{on_disk / len(docs):,.0f} bytes/vector on disk ({args.dim * 4} of them the floats)")
            print(f"nearest to query 0: id={hit.id!r} distance={hit.distance:.3f} metadata={hit.metadata}")


if __name__ == "__main__":
    main()
