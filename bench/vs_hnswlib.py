"""OmenDB vs hnswlib: build throughput, recall@10 and QPS along an ef sweep, interleaved A B A B.

Follows shared/BENCHMARKS.md: same data, parameters and threads for both; repetitions alternate
which system goes first; medians with [min–max]; speed compared at equal recall. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import environment, fmt_ratio, fmt_stats, qps_at_recall, ratio, recall_at_k, spread, stats, table  # noqa: E402

import hnswlib  # noqa: E402
import omendb  # noqa: E402
from omendb.datasets import ClusteredSpec, clustered, exact_neighbors, split_queries  # noqa: E402

K = 10
EF_FLOOR = 64  # the ef at which the acceptance floors are checked
RECALL_TARGETS = (0.95, 0.99)
WARMUP_QUERIES = 20
REPO = Path(__file__).resolve().parent.parent
FULL = {"n": 50_000, "queries": 1000, "repeats": 3, "ef": "16,24,32,48,64,96,128"}
QUICK = {"n": 5_000, "queries": 200, "repeats": 1, "ef": "32,64"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, help=f"base vectors (default {FULL['n']}; quick {QUICK['n']})")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--queries", type=int, help=f"queries (default {FULL['queries']}; quick {QUICK['queries']})")
    p.add_argument("--M", type=int, default=16, help="graph degree (OmenDB m=, hnswlib M=)")
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--threads", type=int, default=2, help="threads for build and batch search")
    p.add_argument("--repeats", type=int, help=f"repetitions (default {FULL['repeats']}; quick 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ef", help=f"ef sweep, comma-separated (default {FULL['ef']}; quick {QUICK['ef']}); "
                   f"{EF_FLOOR} is always added")
    p.add_argument("--quick", action="store_true", help="CI smoke run: n=5000, queries=200, repeats=1, ef 32,64")
    p.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench", help="data/truth cache folder")
    p.add_argument("--json", type=Path, help="raw results (default <cache>/vs_hnswlib-<timestamp>.json)")
    p.add_argument("--strict", action="store_true", help="exit 1 when an acceptance floor fails")
    args = p.parse_args(argv)
    profile = QUICK if args.quick else FULL
    for name in ("n", "queries", "repeats", "ef"):
        if getattr(args, name) is None:
            setattr(args, name, profile[name])
    args.ef = sorted({int(e) for e in str(args.ef).split(",")} | {EF_FLOOR})
    if args.json is None:
        args.json = args.cache / f"vs_hnswlib-{time.strftime('%Y%m%d-%H%M%S')}.json"
    return args


def load_dataset(args) -> tuple[np.ndarray, np.ndarray, np.ndarray, ClusteredSpec]:
    """Base, queries and exact top-K truth, from the cache when present (keyed by every parameter)."""
    spec = ClusteredSpec(n=args.n + args.queries, dim=args.dim, seed=args.seed)
    key = (f"clustered-n{args.n}-q{args.queries}-d{spec.dim}-lat{spec.latent_dim}-c{spec.clusters}"
           f"-noise{spec.noise}-seed{spec.seed}-k{K}")
    paths = {part: args.cache / f"{key}-{part}.npy" for part in ("base", "queries", "truth")}
    if all(path.exists() for path in paths.values()):
        return *(np.load(paths[part]) for part in ("base", "queries", "truth")), spec
    base, queries = split_queries(clustered(spec), args.queries)
    base, queries = np.ascontiguousarray(base), np.ascontiguousarray(queries)
    truth = exact_neighbors(base, queries, K)
    args.cache.mkdir(parents=True, exist_ok=True)
    for part, array in zip(("base", "queries", "truth"), (base, queries, truth)):
        np.save(paths[part], array)
    return base, queries, truth, spec


class OmenDBSystem:
    name = "OmenDB"

    def __init__(self, args):
        self.args, self.db, self.col = args, None, None

    def build(self, base: np.ndarray) -> float:
        """Builds from scratch; returns seconds spent in the add call alone."""
        ids = [str(i) for i in range(len(base))]
        self.db = omendb.open(":memory:", threads=self.args.threads)
        self.col = self.db.collection("bench", self.args.dim, metric="l2", m=self.args.M,
                                      ef_construction=self.args.ef_construction)
        start = time.perf_counter()
        self.col.add(ids=ids, vectors=base)
        return time.perf_counter() - start

    def single(self, queries: np.ndarray, ef: int) -> tuple[float, np.ndarray]:
        """One search call per query from a Python loop (the engine searches on one thread)."""
        search, results = self.col.search, []
        start = time.perf_counter()
        for q in queries:
            results.append(search(q, k=K, ef=ef))
        elapsed = time.perf_counter() - start
        return elapsed, np.array([[int(hit.id) for hit in hits] for hits in results])

    def batch(self, queries: np.ndarray, ef: int) -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        ids, _ = self.col.search_batch(queries, k=K, ef=ef)
        elapsed = time.perf_counter() - start
        return elapsed, ids.astype(np.int64)

    def free(self) -> None:
        self.db.close()
        self.db = self.col = None


class HnswlibSystem:
    name = "hnswlib"

    def __init__(self, args):
        self.args, self.index = args, None

    def build(self, base: np.ndarray) -> float:
        ids = np.arange(len(base))
        self.index = hnswlib.Index(space="l2", dim=self.args.dim)
        self.index.init_index(max_elements=len(base), M=self.args.M,
                              ef_construction=self.args.ef_construction, random_seed=self.args.seed)
        self.index.set_num_threads(self.args.threads)
        start = time.perf_counter()
        self.index.add_items(base, ids)
        return time.perf_counter() - start

    def single(self, queries: np.ndarray, ef: int) -> tuple[float, np.ndarray]:
        self.index.set_ef(ef)
        self.index.set_num_threads(1)
        knn, results = self.index.knn_query, []
        start = time.perf_counter()
        for q in queries:
            results.append(knn(q, k=K)[0])
        elapsed = time.perf_counter() - start
        return elapsed, np.vstack(results).astype(np.int64)

    def batch(self, queries: np.ndarray, ef: int) -> tuple[float, np.ndarray]:
        self.index.set_ef(ef)
        self.index.set_num_threads(self.args.threads)
        start = time.perf_counter()
        labels, _ = self.index.knn_query(queries, k=K)
        elapsed = time.perf_counter() - start
        return elapsed, labels.astype(np.int64)

    def free(self) -> None:
        self.index = None


def measure(system, base, queries, truth, efs) -> dict:
    """Build, warm up, then the ef sweep (single-query and batch); frees the index at the end."""
    gc.collect()
    build_s = system.build(base)
    gc.collect()
    system.single(queries[:WARMUP_QUERIES], max(efs))
    system.batch(queries[:WARMUP_QUERIES], max(efs))
    sweep = {}
    for ef in efs:
        system.single(queries[:WARMUP_QUERIES], ef)
        gc.collect()
        single_s, single_ids = system.single(queries, ef)
        gc.collect()
        batch_s, batch_ids = system.batch(queries, ef)
        sweep[ef] = {"single_qps": len(queries) / single_s, "batch_qps": len(queries) / batch_s,
                     "recall": recall_at_k(single_ids, truth), "batch_recall": recall_at_k(batch_ids, truth)}
    system.free()
    gc.collect()
    return {"build_s": build_s, "build_vps": len(base) / build_s, "sweep": sweep}


def run_interleaved(args, base, queries, truth) -> dict:
    """Repetition r runs OmenDB first when r is even and hnswlib first when r is odd."""
    systems = [OmenDBSystem(args), HnswlibSystem(args)]
    runs = {s.name: [] for s in systems}
    for rep in range(args.repeats):
        for system in systems if rep % 2 == 0 else systems[::-1]:
            result = measure(system, base, queries, truth, args.ef)
            runs[system.name].append(result)
            print(f"  rep {rep + 1}/{args.repeats} {system.name:8s} build {result['build_vps']:>9,.0f} vec/s"
                  f"  ef={EF_FLOOR}: recall {result['sweep'][EF_FLOOR]['recall']:.4f}"
                  f"  1q {result['sweep'][EF_FLOOR]['single_qps']:>7,.0f} QPS", flush=True)
    return runs


def summarize(runs: dict, efs) -> dict:
    """Per system: stats of build throughput and of every sweep figure across repetitions."""
    out = {}
    for name, reps in runs.items():
        sweep = {ef: {metric: stats([r["sweep"][ef][metric] for r in reps]) for metric in reps[0]["sweep"][ef]}
                 for ef in efs}
        out[name] = {"build_vps": stats([r["build_vps"] for r in reps]), "sweep": sweep}
    return out


def equal_recall(summary: dict, efs, mode: str) -> dict:
    """QPS of each system at each target recall (on the median sweep); None where not bracketed."""
    result = {}
    for target in RECALL_TARGETS:
        row = {}
        for name, s in summary.items():
            recalls = [s["sweep"][ef]["recall"]["median"] for ef in efs]
            qps = [s["sweep"][ef][f"{mode}_qps"]["median"] for ef in efs]
            row[name] = qps_at_recall(recalls, qps, target)
        row["ratio"] = ratio(row["OmenDB"], row["hnswlib"]) if None not in row.values() else None
        result[target] = row
    return result


def floors(summary: dict) -> list[tuple[str, bool, str]]:
    o, h = summary["OmenDB"], summary["hnswlib"]
    build = ratio(o["build_vps"]["median"], h["build_vps"]["median"])
    qps = ratio(o["sweep"][EF_FLOOR]["single_qps"]["median"], h["sweep"][EF_FLOOR]["single_qps"]["median"])
    ro, rh = o["sweep"][EF_FLOOR]["recall"]["median"], h["sweep"][EF_FLOOR]["recall"]["median"]
    return [("build throughput ratio >= 1.0", build >= 1.0, f"{build:.2f}x"),
            (f"single-query QPS ratio at ef={EF_FLOOR} >= 1.0", qps >= 1.0, f"{qps:.2f}x"),
            (f"recall@{K} at ef={EF_FLOOR} >= hnswlib - 0.01", ro >= rh - 0.01, f"{ro:.4f} vs {rh:.4f}")]


def print_header(env: dict, spec: ClusteredSpec, args) -> None:
    print("== OmenDB vs hnswlib ==")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    print(f"cpu: {env['cpu']} | cores: {env['cores']} | omendb SIMD: {env['simd_isa']} "
          f"| load avg at start: {' '.join(f'{x:.2f}' for x in env['loadavg'])}")
    print(f"data: clustered n={args.n} queries={args.queries} dim={spec.dim} latent_dim={spec.latent_dim} "
          f"clusters={spec.clusters} noise={spec.noise} seed={spec.seed} (split seed 1), metric l2, k={K}")
    print(f"index: M={args.M} ef_construction={args.ef_construction} threads={args.threads} (build, batch); "
          f"single-query: 1 thread | repeats={args.repeats}, interleaved | ef sweep {args.ef}")


def print_report(summary: dict, eq: dict, checks, efs) -> None:
    o, h = summary["OmenDB"], summary["hnswlib"]
    print("\nSummary (median [min–max] over repetitions)")
    rows = []
    for label, key, spec in (("build (vectors/s)", None, ",.0f"), (f"recall@{K} ef={EF_FLOOR}", "recall", ".4f"),
                             (f"1-query QPS ef={EF_FLOOR}", "single_qps", ",.0f"),
                             (f"batch QPS ef={EF_FLOOR}", "batch_qps", ",.0f")):
        so, sh = (o["build_vps"], h["build_vps"]) if key is None else (o["sweep"][EF_FLOOR][key], h["sweep"][EF_FLOOR][key])
        rows.append([label, fmt_stats(so, spec), fmt_stats(sh, spec), fmt_ratio(ratio(so["median"], sh["median"])),
                     f"{spread(so):.0%} / {spread(sh):.0%}"])
    print(table(["", "OmenDB", "hnswlib", "OmenDB/hnswlib", "spread O/h"], rows))

    print("\nef sweep (medians)")
    rows = []
    for ef in efs:
        so, sh = o["sweep"][ef], h["sweep"][ef]
        m = {key: (so[key]["median"], sh[key]["median"]) for key in so}
        rows.append([ef, f"{m['recall'][0]:.4f}", f"{m['recall'][1]:.4f}", f"{m['single_qps'][0]:,.0f}",
                     f"{m['single_qps'][1]:,.0f}", fmt_ratio(ratio(*m["single_qps"])), f"{m['batch_qps'][0]:,.0f}",
                     f"{m['batch_qps'][1]:,.0f}", fmt_ratio(ratio(*m["batch_qps"]))])
    print(table(["ef", "recall O", "recall h", "1q QPS O", "1q QPS h", "1q O/h", "batch O", "batch h", "batch O/h"],
                rows))

    print("\nQPS at equal recall (log-QPS interpolated along each sweep; — where a side does not bracket it)")
    rows = []
    for mode in ("single", "batch"):
        for target, row in eq[mode].items():
            rows.append([f"{mode} @ recall {target}", *(f"{row[s]:,.0f}" if row[s] else "—" for s in ("OmenDB", "hnswlib")),
                         fmt_ratio(row["ratio"])])
    print(table(["", "OmenDB", "hnswlib", "OmenDB/hnswlib"], rows))

    print("\nAcceptance floors")
    for label, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {label} ({detail})")


def main(argv=None) -> int:
    args = parse_args(argv)
    env = environment(["omendb", "hnswlib", "numpy"]) | {"simd_isa": omendb.simd_isa()}
    t0 = time.perf_counter()
    base, queries, truth, spec = load_dataset(args)
    print_header(env, spec, args)
    print(f"data ready in {time.perf_counter() - t0:.1f} s (cache {args.cache})\n")
    runs = run_interleaved(args, base, queries, truth)
    summary = summarize(runs, args.ef)
    eq = {mode: equal_recall(summary, args.ef, mode) for mode in ("single", "batch")}
    checks = floors(summary)
    print_report(summary, eq, checks, args.ef)
    env["loadavg_end"] = list(os.getloadavg())
    print(f"\nload avg at end: {' '.join(f'{x:.2f}' for x in env['loadavg_end'])} | "
          f"wall {time.perf_counter() - t0:.0f} s")
    record = {"env": env, "dataset": vars(spec) | {"base": args.n, "queries": args.queries, "split_seed": 1, "k": K},
              "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "runs": runs, "summary": summary, "equal_recall": eq,
              "floors": [{"floor": label, "pass": ok, "value": detail} for label, ok, detail in checks]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=1, default=str))
    print(f"raw results: {args.json}")
    return 1 if args.strict and not all(ok for _, ok, _ in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
