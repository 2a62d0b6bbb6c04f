"""Durability benchmark: durable insert throughput, on-disk size, and the time to open a saved
database and answer the first query.

Follows shared/BENCHMARKS.md. Data: the clustered set of omendb.datasets (a Gaussian mixture in a
24-d latent space mapped to --dim, seeded; cached with its exact top-10 under --cache).

1. Insert throughput, sync="full" vs sync="off" (and ":memory:" for reference): a fresh database
   per run, records added in batches of --batch (1,000) by col.add; vectors/s of the add calls,
   and separately the close() (its final checkpoint). --throughput-n vectors (default 100,000,
   smaller than --n so that 3 interleaved repetitions fit), modes interleaved A B C, C B A, ...;
   median [min–max].
2. The big database: --n vectors (default 1,000,000) added the same way with sync="full", then
   closed (the checkpoint writes the snapshot files). On-disk bytes per vector beyond the raw
   floats: folder bytes / n - 4 * dim.
3. Open: in a fresh subprocess each time (--open-runs, default 5): omendb.open(path), then the
   first search; times measured in the subprocess around each call (Python start-up and imports
   excluded, reported apart); resident memory (VmRSS) after open minus before it, and the peak
   (VmHWM) minus the same baseline. Warm: the files
   are in the OS page cache (just written or read by the previous run). Cold (--cold, needs root):
   the page cache is dropped before each run. Recall@10 at ef=64 of the reopened database on the
   held-out queries checks that what was loaded is the graph that was built.

Usage: python bench/durability.py [--n 1000000] [--throughput-n 100000] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cached_split, environment, fmt_loadavg, fmt_stats, stats, table  # noqa: E402

import omendb  # noqa: E402
from omendb.datasets import ClusteredSpec  # noqa: E402

K = 10
EF = 64
REPO = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter: open, first query, memory, recall. Prints one JSON line.
OPEN_PROBE = r"""
import json, sys, time
t_start = time.perf_counter()
import numpy as np
import omendb
def rss():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
path, queries_path, truth_path = sys.argv[1], sys.argv[2], sys.argv[3]
queries = np.load(queries_path)
truth = np.load(truth_path)
query = np.ascontiguousarray(queries[0])
t_imported = time.perf_counter()
rss_before, _ = rss()
t0 = time.perf_counter()
db = omendb.open(path)
t1 = time.perf_counter()
col = db.collection("bench")
hits = col.search(query, k=10, ef=64)
t2 = time.perf_counter()
rss_open, peak_open = rss()
found = np.array([[int(h.id) for h in col.search(np.ascontiguousarray(q), k=10, ef=64)] for q in queries])
recall = float((found[:, :, None] == truth[:, None, :10]).any(axis=2).sum()) / truth[:, :10].size
print(json.dumps({"open_s": t1 - t0, "first_query_s": t2 - t1, "open_and_query_s": t2 - t0,
                  "startup_s": t_imported - t_start, "rss_before": rss_before, "rss_after_open": rss_open,
                  "peak_after_open": peak_open, "size": len(col), "recall": recall, "first_hits": len(hits)}))
db.close()
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1_000_000, help="vectors in the database that is reopened")
    p.add_argument("--throughput-n", type=int, default=100_000, help="vectors per insert-throughput run")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--queries", type=int, default=200, help="held-out queries (recall after reopen)")
    p.add_argument("--batch", type=int, default=1000, help="records per add call")
    p.add_argument("--M", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--threads", type=int, default=None, help="insert threads (default: all cores)")
    p.add_argument("--repeats", type=int, default=3, help="throughput repetitions per mode")
    p.add_argument("--modes", default="full,off,memory", help="throughput modes, comma-separated")
    p.add_argument("--open-runs", type=int, default=5)
    p.add_argument("--cold", action="store_true", help="also time opens after dropping the page cache (root)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dir", type=Path, help="where the databases go (default: a temporary folder, removed)")
    p.add_argument("--keep", action="store_true", help="keep the big database (in --dir)")
    p.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench", help="data/truth cache folder")
    p.add_argument("--json", type=Path, help="raw results (default <cache>/durability-<timestamp>.json)")
    args = p.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.json is None:
        args.json = args.cache / f"durability-{time.strftime('%Y%m%d-%H%M%S')}.json"
    return args


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(path, base: np.ndarray, ids: list, args, sync: str, progress: bool = False) -> dict:
    """Adds ``base`` in batches to a new database at ``path`` (or in memory); times the adds and
    the close. Returns seconds and vectors/s."""
    gc.collect()
    open_args = {} if path == ":memory:" else {"sync": sync}
    db = omendb.open(path, threads=args.threads, **open_args)
    col = db.collection("bench", dim=base.shape[1], metric="l2", m=args.M, ef_construction=args.ef_construction)
    n, step = len(base), args.batch
    started = time.perf_counter()
    last_report = started
    for start in range(0, n, step):
        col.add(ids[start : start + step], base[start : start + step])
        if progress and time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            done = start + step
            print(f"    {done:,} / {n:,} added, {done / (last_report - started):,.0f} vectors/s", flush=True)
    add_s = time.perf_counter() - started
    started = time.perf_counter()
    db.close()
    close_s = time.perf_counter() - started
    return {"add_s": add_s, "close_s": close_s, "vps": n / add_s, "vps_with_close": n / (add_s + close_s)}


def throughput(base: np.ndarray, args, root: Path) -> dict:
    """Interleaved runs of each mode; order reversed every repetition."""
    n = min(args.throughput_n, len(base))
    data, ids = base[:n], [str(i) for i in range(n)]
    runs = {mode: [] for mode in args.modes}
    for rep in range(args.repeats):
        order = args.modes if rep % 2 == 0 else args.modes[::-1]
        for mode in order:
            path = ":memory:" if mode == "memory" else root / f"throughput-{mode}"
            if path != ":memory:":
                shutil.rmtree(path, ignore_errors=True)
            result = build(path, data, ids, args, sync=mode)
            if path != ":memory:":
                result["folder_bytes"] = folder_bytes(path)
                shutil.rmtree(path, ignore_errors=True)
            runs[mode].append(result)
            print(f"  rep {rep + 1}/{args.repeats} {mode:>6}: {result['vps']:,.0f} vectors/s "
                  f"(close {result['close_s']:.2f} s) | load {fmt_loadavg(os.getloadavg())}", flush=True)
    return {"n": n, "runs": runs,
            "summary": {mode: {key: stats([r[key] for r in rs]) for key in ("vps", "vps_with_close", "close_s")}
                        for mode, rs in runs.items()}}


def drop_page_cache() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def open_runs(path: Path, queries_path: Path, truth_path: Path, runs: int, cold: bool) -> list:
    results = []
    for _ in range(runs):
        if cold and not drop_page_cache():
            return []
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", OPEN_PROBE, str(path), str(queries_path), str(truth_path)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the open probe failed with status {done.returncode}:\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["process_s"] = time.perf_counter() - started
        results.append(result)
    return results


def summarize_open(results: list, n: int, dim: int) -> dict:
    if not results:
        return {}
    return {
        "open_s": stats([r["open_s"] for r in results]),
        "first_query_s": stats([r["first_query_s"] for r in results]),
        "open_and_query_s": stats([r["open_and_query_s"] for r in results]),
        "startup_s": stats([r["startup_s"] for r in results]),
        "process_s": stats([r["process_s"] for r in results]),
        "rss_delta_bytes": stats([r["rss_after_open"] - r["rss_before"] for r in results]),
        "rss_beyond_floats_per_vector": stats([(r["rss_after_open"] - r["rss_before"]) / n - 4 * dim for r in results]),
        "peak_rss_delta_bytes": stats([r["peak_after_open"] - r["rss_before"] for r in results]),
        "recall": results[0]["recall"],
        "size": results[0]["size"],
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    env = environment(["omendb", "numpy"]) | {"simd_isa": omendb.simd_isa()}
    wall = time.perf_counter()
    spec = ClusteredSpec(n=args.n + args.queries, dim=args.dim, seed=args.seed)
    base, queries, truth = cached_split(spec, args.queries, K, args.cache)
    print("== OmenDB durability ==")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    print(f"cpu: {env['cpu']} | cores: {env['cores']} | SIMD: {env['simd_isa']} | load avg {fmt_loadavg(env['loadavg'])}")
    print(f"data: clustered n={args.n:,} queries={args.queries} dim={args.dim} latent_dim={spec.latent_dim} "
          f"clusters={spec.clusters} noise={spec.noise} seed={spec.seed} (split seed 1), metric l2")
    print(f"index: M={args.M} ef_construction={args.ef_construction} threads={args.threads or 'all cores'}; "
          f"batches of {args.batch:,} via col.add, no metadata")
    print(f"data ready in {time.perf_counter() - wall:.1f} s\n")

    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="omendb-durability-"))
    root.mkdir(parents=True, exist_ok=True)
    record = {"env": env, "dataset": vars(spec) | {"base": args.n, "queries": args.queries, "split_seed": 1},
              "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    try:
        print(f"1. insert throughput, {min(args.throughput_n, args.n):,} vectors per run, modes {args.modes}, "
              f"{args.repeats} interleaved repetitions")
        record["throughput"] = throughput(base, args, root)

        print(f"\n2. building the {args.n:,}-vector database with sync='full'")
        path = root / "big"
        shutil.rmtree(path, ignore_errors=True)
        big = build(path, base, [str(i) for i in range(args.n)], args, sync="full", progress=True)
        big["folder_bytes"] = folder_bytes(path)
        big["files"] = {p.relative_to(path).as_posix(): p.stat().st_size for p in path.rglob("*") if p.is_file()}
        big["disk_beyond_floats_per_vector"] = big["folder_bytes"] / args.n - 4 * args.dim
        record["big"] = big
        print(f"  {big['vps']:,.0f} vectors/s (adds {big['add_s']:.1f} s, close {big['close_s']:.1f} s); "
              f"{big['folder_bytes']:,} bytes on disk")

        queries_path, truth_path = root / "queries.npy", root / "truth.npy"
        np.save(queries_path, queries)
        np.save(truth_path, truth)
        print(f"\n3. open + first query in a fresh process, {args.open_runs} runs (warm page cache)")
        warm = open_runs(path, queries_path, truth_path, args.open_runs, cold=False)
        record["open_warm"] = {"runs": warm, "summary": summarize_open(warm, args.n, args.dim)}
        if args.cold:
            cold = open_runs(path, queries_path, truth_path, args.open_runs, cold=True)
            record["open_cold"] = {"runs": cold, "summary": summarize_open(cold, args.n, args.dim)}
            if not cold:
                print("  (cold runs skipped: the page cache cannot be dropped without root)")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    print_report(record, args)
    record["wall_s"] = time.perf_counter() - wall
    env["loadavg_end"] = list(os.getloadavg())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=1, default=str))
    print(f"\nload avg at end: {fmt_loadavg(env['loadavg_end'])} | wall {record['wall_s']:.0f} s\nraw results: {args.json}")
    return 0


def print_report(record: dict, args) -> None:
    t = record["throughput"]
    print(f"\nInsert throughput, {t['n']:,} x {args.dim} in batches of {args.batch:,} "
          f"(median [min–max] of {args.repeats})")
    rows = []
    for mode, s in t["summary"].items():
        label = {"memory": "in memory (:memory:)"}.get(mode, f"sync={mode!r}")
        rows.append([label, fmt_stats(s["vps"]), fmt_stats(s["vps_with_close"]), fmt_stats(s["close_s"], ".2f", " s")])
    print(table(["", "vectors/s (adds)", "vectors/s incl. close", "close (checkpoint)"], rows))
    if "full" in t["summary"] and "off" in t["summary"]:
        print(f"sync='full' / sync='off': {t['summary']['full']['vps']['median'] / t['summary']['off']['vps']['median']:.2f}x")

    big = record["big"]
    print(f"\nDatabase of {args.n:,} x {args.dim} (sync='full' build: {big['vps']:,.0f} vectors/s, "
          f"close {big['close_s']:.1f} s)")
    rows = [["on disk, total", f"{big['folder_bytes']:,} bytes"],
            ["on disk beyond the raw floats", f"{big['disk_beyond_floats_per_vector']:,.1f} bytes/vector"]]
    for name, size in sorted(big["files"].items()):
        rows.append([f"  {name}", f"{size:,} bytes ({size / args.n:,.1f}/vector)"])
    for label, key in (("warm page cache", "open_warm"), ("cold page cache", "open_cold")):
        s = record.get(key, {}).get("summary")
        if not s:
            continue
        rows += [
            [f"open, {label} (s)", fmt_stats(s["open_s"], ".3f")],
            [f"first query after open, {label} (s)", fmt_stats(s["first_query_s"], ".4f")],
            [f"open + first query, {label} (s)", fmt_stats(s["open_and_query_s"], ".3f")],
            [f"RSS after open - before, {label}", fmt_stats({k: (v / 2**20 if k != "n" else v) for k, v in s["rss_delta_bytes"].items()}, ",.0f", " MiB")],
            [f"  beyond the raw floats, {label}", fmt_stats(s["rss_beyond_floats_per_vector"], ",.0f", " bytes/vector")],
            [f"peak RSS during open - before, {label}", fmt_stats({k: (v / 2**20 if k != "n" else v) for k, v in s["peak_rss_delta_bytes"].items()}, ",.0f", " MiB")],
        ]
        if key == "open_warm":
            rows += [["python start-up + imports, not counted (s)", fmt_stats(s["startup_s"], ".3f")],
                     [f"recall@{K} at ef={EF} after reopen", f"{s['recall']:.4f} ({s['size']:,} records)"]]
    print(table(["", "value"], rows))


if __name__ == "__main__":
    sys.exit(main())
