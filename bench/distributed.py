"""omendb.distributed on a local Ray cluster against one embedded database, same data, same run
(issue 15's acceptance): load rate, single-query and batch QPS and recall@10 at ef=64 (and recall
along --recall-ef), for N shards; the per-query fan-out overhead on a tiny collection; and SIGKILLs
of shard actors during a load and during searches, counting acknowledged records lost (must be 0)
and searches answered wrongly.

    python bench/distributed.py --kills 10                     # 1,000,000 x 128, 4 shards, 20 kills
    python bench/distributed.py --n 200000 --shards 1,2,4      # how it grows with shards
    python bench/distributed.py --n 100000 --kills 10 --skip-embedded

Data: omendb.datasets.clustered (seed 0), 1,000 held-out queries with exact truth (cached under
.cache/bench). Each system loads in batches of 10,000 from the driver; shards use one thread each
(cpus_per_shard=1; the local cluster gets as many logical CPUs as shards), the embedded database
all cores. Prints a table and writes JSON with --out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cached_split, recall_at_k  # noqa: E402

import omendb  # noqa: E402
from omendb.datasets import ClusteredSpec  # noqa: E402
from omendb.distributed._shards import kill_random_actor  # noqa: E402

BATCH = 10_000
EF = 64
KILL_SHARDS = 4  # kill_test's collection: 4 shards, each with a primary and a replica


def load(collection, base: np.ndarray) -> float:
    """Rows/s of add() in batches of BATCH."""
    started = time.perf_counter()
    for start in range(0, len(base), BATCH):
        stop = min(start + BATCH, len(base))
        collection.add([str(i) for i in range(start, stop)], base[start:stop])
    return len(base) / (time.perf_counter() - started)


def recall_by_ef(collection, queries: np.ndarray, truth: np.ndarray, efs: list) -> dict:
    """Recall@10 of search_batch at each ef: where a sharded search (each shard walks its own
    smaller graph with the full ef) and one database converge."""
    return {str(ef): recall_at_k(collection.search_batch(queries, k=10, ef=ef)[0].astype(np.int64), truth)
            for ef in efs}


def measure_search(collection, queries: np.ndarray, truth: np.ndarray) -> dict:
    """Single-query QPS (one after another), batch QPS and recall@10, at ef=EF."""
    started = time.perf_counter()
    found = [[int(hit.id) for hit in collection.search(query, k=10, ef=EF)] for query in queries]
    single = len(queries) / (time.perf_counter() - started)
    started = time.perf_counter()
    ids, _ = collection.search_batch(queries, k=10, ef=EF)
    batch = len(queries) / (time.perf_counter() - started)
    return {"single_qps": single, "batch_qps": batch, "recall": recall_at_k(np.array(found), truth),
            "batch_recall": recall_at_k(ids.astype(np.int64), truth)}


def overhead_us(collection, queries: np.ndarray) -> float:
    """Median microseconds of one search(k=10) call."""
    times = []
    for query in queries:
        started = time.perf_counter()
        collection.search(query, k=10)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1e6)


def kill_during(col, kills: int, work, seed: int) -> None:
    """Runs ``work`` in a thread while SIGKILLing ``kills`` random shard actors."""
    rng = np.random.default_rng(seed)
    failures: list = []
    thread = threading.Thread(target=lambda: _capture(work, failures))
    thread.start()
    for _ in range(kills):
        time.sleep(0.5 + rng.random())
        kill_random_actor(col._shards, rng)
    thread.join()
    if failures:
        raise failures[0]


def _capture(work, failures: list) -> None:
    try:
        work()
    except Exception as error:  # noqa: BLE001 - re-raised by kill_during
        failures.append(error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--shards", default="4", help="comma-separated shard counts")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=0, help="also kill this many actors during a load and a search run")
    parser.add_argument("--recall-ef", default="64,128,256", help="comma-separated ef values for the recall curve")
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import ray

    import omendb.distributed as od

    base, queries, truth = cached_split(ClusteredSpec(n=args.n + args.queries, dim=args.dim, seed=0), args.queries,
                                        10, args.cache)
    shard_counts = [int(s) for s in args.shards.split(",")]
    recall_efs = [int(ef) for ef in args.recall_ef.split(",")]
    work = Path(tempfile.mkdtemp(prefix="omendb-distributed-bench-"))
    report: dict = {"n": args.n, "dim": args.dim, "cpus": os.cpu_count(), "runs": []}
    try:
        if not args.skip_embedded:
            with omendb.open(work / "embedded") as db:
                col = db.collection("c", dim=args.dim)
                rate = load(col, base)
                report["embedded"] = {"load_rows_per_s": rate, **measure_search(col, queries, truth),
                                      "recall_by_ef": recall_by_ef(col, queries, truth, recall_efs)}
                tiny = db.collection("tiny", dim=args.dim)
                tiny.add([str(i) for i in range(1000)], base[:1000])
                report["embedded"]["call_us"] = overhead_us(tiny, queries[:300])
            print("embedded", json.dumps(report["embedded"]), flush=True)
        kill_actors = 2 * KILL_SHARDS if args.kills else 0  # kill_test's primaries and replicas
        ray.init(num_cpus=max(shard_counts + [kill_actors]) + 1, include_dashboard=False, log_to_driver=False)
        ddb = od.connect(root=work / "cluster")
        for shards in shard_counts:
            col = ddb.create_collection(f"c{shards}", dim=args.dim, shards=shards)
            run = {"shards": shards, "load_rows_per_s": load(col, base), **measure_search(col, queries, truth)}
            run["recall_by_ef"] = recall_by_ef(col, queries, truth, recall_efs)
            ddb.drop_collection(f"c{shards}")  # the cluster has CPUs for one collection's shards
            tiny = ddb.create_collection(f"tiny{shards}", dim=args.dim, shards=shards)
            tiny.add([str(i) for i in range(1000)], base[:1000])
            run["call_us"] = overhead_us(tiny, queries[:300])
            ddb.drop_collection(f"tiny{shards}")
            report["runs"].append(run)
            print("distributed", json.dumps(run), flush=True)
        if args.kills:
            report["kills"] = kill_test(ddb, base, args.kills)
            print("kills", json.dumps(report["kills"]), flush=True)
        ddb.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(report)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


def kill_test(ddb, base: np.ndarray, kills: int) -> dict:
    """``kills`` SIGKILLs during a load, then ``kills`` during searches; acknowledged records lost
    and wrong or failed searches are counted."""
    col = ddb.create_collection("killed", dim=base.shape[1], shards=KILL_SHARDS, replicas=1)
    acknowledged: list = []
    batch = 2000

    def load_all() -> None:
        for start in range(0, len(base), batch):
            col.add([str(i) for i in range(start, start + len(base[start:start + batch]))], base[start:start + batch])
            acknowledged.append(start)

    started = time.perf_counter()
    kill_during(col, kills, load_all, seed=1)
    loaded = time.perf_counter() - started
    rows = sum(len(base[s:s + batch]) for s in acknowledged)
    lost = rows - len(col)
    queries = base[:200]
    expected = [[hit.id for hit in col.search(q, k=10, exact=True)] for q in queries]
    wrong = []

    def search_all() -> None:
        for _ in range(20):
            for query, want in zip(queries, expected):
                if [hit.id for hit in col.search(query, k=10, exact=True)] != want:
                    wrong.append(1)

    kill_during(col, kills, search_all, seed=2)
    return {"kills": 2 * kills, "acknowledged_rows": rows, "rows_present": len(col), "lost": lost,
            "load_seconds": loaded, "searches": 20 * len(queries), "wrong_searches": len(wrong)}


def print_table(report: dict) -> None:
    embedded = report.get("embedded")
    print(f"\n{report['n']:,} x {report['dim']}, {report['cpus']} CPUs")
    print(f"{'system':22s} {'load rows/s':>12s} {'single QPS':>11s} {'batch QPS':>10s} {'recall@10':>10s} {'call µs':>8s}")
    rows = ([("embedded", embedded)] if embedded else []) + [(f"distributed, {r['shards']} shards", r) for r in report["runs"]]
    for name, row in rows:
        print(f"{name:22s} {row['load_rows_per_s']:12,.0f} {row['single_qps']:11,.0f} {row['batch_qps']:10,.0f} "
              f"{row['recall']:10.4f} {row['call_us']:8,.0f}")
    print("recall@10 (search_batch) by ef: " + "; ".join(
        f"{name}: " + ", ".join(f"{ef} {value:.4f}" for ef, value in row["recall_by_ef"].items()) for name, row in rows))
    if embedded:
        for run in report["runs"]:
            print(f"{run['shards']} shards / embedded: load {run['load_rows_per_s'] / embedded['load_rows_per_s']:.2f}x, "
                  f"single QPS {run['single_qps'] / embedded['single_qps']:.2f}x, batch QPS "
                  f"{run['batch_qps'] / embedded['batch_qps']:.2f}x, recall {run['recall'] - embedded['recall']:+.4f}")


if __name__ == "__main__":
    main()
