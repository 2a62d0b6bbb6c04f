"""OmenDB vs hnswlib: build throughput, recall@10 and QPS along an ef sweep, interleaved A B A B.

Follows shared/BENCHMARKS.md: same data, parameters and threads for both. Each repetition builds
both (alternating who goes first), keeps both alive and times them in short alternating rounds per
ef, so outside load hits both sides alike; per-round paired ratios cancel slow drifts. Medians with
[min–max]; speed compared at equal recall. See bench/README.md.
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
from common import (cached_split, environment, fmt_loadavg, fmt_ratio, fmt_stats, median, paired_ratios,  # noqa: E402
                    qps_at_recall, query_slice, ratio, recall_at_k, spread, stats, table, timed_qps)

import hnswlib  # noqa: E402
import omendb  # noqa: E402
from omendb.datasets import ClusteredSpec  # noqa: E402

K = 10
EF_FLOOR = 64  # the ef at which the acceptance floors are checked
RECALL_TARGETS = (0.95, 0.99)
WARMUP_QUERIES = 20
OMEN, HNSW = "OmenDB", "hnswlib"
MODES = ("single", "batch")
PER_SYSTEM = ("recall", "batch_recall", "single_qps", "batch_qps")  # per-system figures of one ef
REPO = Path(__file__).resolve().parent.parent
FULL = {"n": 50_000, "queries": 1000, "repeats": 3, "ef": "8,10,12,16,24,32,48,64,96,128"}
QUICK = {"n": 5_000, "queries": 200, "repeats": 1, "ef": "32,64"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, help=f"base vectors (default {FULL['n']}; quick {QUICK['n']})")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--queries", type=int, help=f"queries (default {FULL['queries']}; quick {QUICK['queries']})")
    p.add_argument("--M", type=int, default=16, help="graph degree (OmenDB m=, hnswlib M=)")
    p.add_argument("--ef-construction", type=int, default=100)
    p.add_argument("--quantization", default="sq8", choices=("none", "sq8"),
                   help="OmenDB's quantization= (default sq8, as the product's; none: float walks)")
    p.add_argument("--threads", type=int, default=2, help="threads for build and batch search")
    p.add_argument("--repeats", type=int, help=f"repetitions (default {FULL['repeats']}; quick 1)")
    p.add_argument("--rounds", type=int, default=5, help="alternating timed rounds per ef and repetition")
    p.add_argument("--slice", type=int, default=0, help="queries timed per round (default 0: all)")
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
    """Base, queries and exact top-K truth of the clustered set, cached under ``--cache``."""
    spec = ClusteredSpec(n=args.n + args.queries, dim=args.dim, seed=args.seed)
    return *cached_split(spec, args.queries, K, args.cache), spec


class OmenDBSystem:
    name = OMEN

    def __init__(self, args):
        self.args, self.db, self.col = args, None, None

    def build(self, base: np.ndarray) -> float:
        """Builds from scratch; returns seconds spent in the add call alone."""
        ids = [str(i) for i in range(len(base))]
        self.db = omendb.open(":memory:", threads=self.args.threads)
        self.col = self.db.collection("bench", self.args.dim, metric="l2", m=self.args.M,
                                      ef_construction=self.args.ef_construction,
                                      quantization=self.args.quantization)
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
    name = HNSW

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


def build_all(order, base) -> dict:
    """Builds each system from scratch in ``order``; seconds spent in the insert call alone."""
    seconds = {}
    for system in order:
        gc.collect()
        seconds[system.name] = system.build(base)
    gc.collect()
    return seconds


def recall_pass(systems, queries, truth, ef) -> dict:
    """Untimed pass over all queries at ``ef`` (also the warm-up for the timed rounds)."""
    out = {"recall": {}, "batch_recall": {}}
    for system in systems:
        out["recall"][system.name] = recall_at_k(system.single(queries, ef)[1], truth)
        out["batch_recall"][system.name] = recall_at_k(system.batch(queries, ef)[1], truth)
    return out


def timed_rounds(systems, queries, ef, args, flip: int) -> list[dict]:
    """Each round times both systems back to back on the same query slice, single-query loop
    first, then the batch call; the order swaps every round, so a burst of outside load lands on
    both sides alike."""
    rounds = []
    for rnd in range(args.rounds):
        order = systems if (rnd + flip) % 2 == 0 else systems[::-1]
        qs = query_slice(queries, rnd, args.slice)
        row = {"first": order[0].name, "queries": len(qs)}
        row["single_qps"] = {s.name: timed_qps(s.single, qs, ef) for s in order}
        row["batch_qps"] = {s.name: timed_qps(s.batch, qs, ef) for s in order}
        rounds.append(row)
    return rounds


def measure_ef(systems, queries, truth, ef, args, flip: int) -> dict:
    """Recall, then the timed rounds; median QPS over rounds per system and median paired ratio."""
    result = recall_pass(systems, queries, truth, ef)
    rounds = timed_rounds(systems, queries, ef, args, flip)
    for mode in MODES:
        qps = {s.name: [r[f"{mode}_qps"][s.name] for r in rounds] for s in systems}
        result[f"{mode}_qps"] = {name: median(values) for name, values in qps.items()}
        result[f"{mode}_paired"] = median(paired_ratios(qps[OMEN], qps[HNSW]))
    result["rounds"] = rounds
    return result


def run_repetition(systems, base, queries, truth, args, rep: int) -> dict:
    """Builds both (OmenDB first on even repetitions), keeps both alive for the paired ef sweep,
    then frees both."""
    order = systems if rep % 2 == 0 else systems[::-1]
    build_s = build_all(order, base)
    print(f"  rep {rep + 1}/{args.repeats} build ({order[0].name} first): " + "  ".join(
        f"{name} {len(base) / s:,.0f} vec/s" for name, s in build_s.items()), flush=True)
    for system in systems:
        system.single(queries[:WARMUP_QUERIES], max(args.ef))
        system.batch(queries[:WARMUP_QUERIES], max(args.ef))
    sweep = {ef: measure_ef(systems, queries, truth, ef, args, flip=rep + i) for i, ef in enumerate(args.ef)}
    for system in systems:
        system.free()
    gc.collect()
    return {"build_first": order[0].name, "build_s": build_s,
            "build_vps": {name: len(base) / s for name, s in build_s.items()},
            "sweep": sweep, "loadavg": list(os.getloadavg())}


def print_repetition(result: dict, rep: int, args) -> None:
    at = result["sweep"][EF_FLOOR]
    print(f"  rep {rep + 1}/{args.repeats} ef={EF_FLOOR}: recall {at['recall'][OMEN]:.4f} / {at['recall'][HNSW]:.4f}"
          f" | 1q QPS {at['single_qps'][OMEN]:,.0f} / {at['single_qps'][HNSW]:,.0f} paired {at['single_paired']:.2f}x"
          f" | batch {at['batch_qps'][OMEN]:,.0f} / {at['batch_qps'][HNSW]:,.0f} paired {at['batch_paired']:.2f}x"
          f" | load {fmt_loadavg(result['loadavg'])}", flush=True)


def run_all(args, base, queries, truth) -> list[dict]:
    systems = [OmenDBSystem(args), HnswlibSystem(args)]
    runs = []
    for rep in range(args.repeats):
        runs.append(run_repetition(systems, base, queries, truth, args, rep))
        print_repetition(runs[-1], rep, args)
    return runs


def summarize(runs: list[dict], efs) -> dict:
    """Stats over repetitions of the per-repetition figures (QPS: medians over rounds)."""
    systems = {name: {"build_vps": stats([r["build_vps"][name] for r in runs]),
                      "sweep": {ef: {m: stats([r["sweep"][ef][m][name] for r in runs]) for m in PER_SYSTEM}
                                for ef in efs}}
               for name in (OMEN, HNSW)}
    paired = {ef: {mode: stats([r["sweep"][ef][f"{mode}_paired"] for r in runs]) for mode in MODES} for ef in efs}
    return {"systems": systems, "paired": paired}


def equal_recall(summary: dict, efs, mode: str) -> dict:
    """QPS of each system at each target recall (on the median sweep); None where not bracketed."""
    result = {}
    for target in RECALL_TARGETS:
        row = {}
        for name, s in summary["systems"].items():
            recalls = [s["sweep"][ef]["recall"]["median"] for ef in efs]
            qps = [s["sweep"][ef][f"{mode}_qps"]["median"] for ef in efs]
            row[name] = qps_at_recall(recalls, qps, target)
        row["ratio"] = ratio(row[OMEN], row[HNSW])
        result[target] = row
    return result


def floors(summary: dict) -> list[tuple[str, bool, str]]:
    o, h = summary["systems"][OMEN], summary["systems"][HNSW]
    build = ratio(o["build_vps"]["median"], h["build_vps"]["median"])
    qps = summary["paired"][EF_FLOOR]["single"]["median"]
    ro, rh = o["sweep"][EF_FLOOR]["recall"]["median"], h["sweep"][EF_FLOOR]["recall"]["median"]
    return [("build throughput ratio >= 1.0", build >= 1.0, f"{build:.2f}x"),
            (f"single-query QPS at ef={EF_FLOOR}, median paired ratio >= 1.0", qps >= 1.0, f"{qps:.2f}x"),
            (f"recall@{K} at ef={EF_FLOOR} >= hnswlib - 0.01", ro >= rh - 0.01, f"{ro:.4f} vs {rh:.4f}")]


def print_header(env: dict, spec: ClusteredSpec, args) -> None:
    print("== OmenDB vs hnswlib ==")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    print(f"cpu: {env['cpu']} | cores: {env['cores']} | omendb SIMD: {env['simd_isa']} "
          f"| load avg at start: {fmt_loadavg(env['loadavg'])}")
    print(f"data: clustered n={args.n} queries={args.queries} dim={spec.dim} latent_dim={spec.latent_dim} "
          f"clusters={spec.clusters} noise={spec.noise} seed={spec.seed} (split seed 1), metric l2, k={K}")
    print(f"index: M={args.M} ef_construction={args.ef_construction} quantization={args.quantization} "
          f"threads={args.threads} (build, batch); "
          f"single-query: 1 thread | ef sweep {args.ef}")
    print(f"method: repeats={args.repeats} (builds interleaved), {args.rounds} alternating A/B rounds per ef "
          f"of {args.slice or args.queries} queries each; QPS = median over rounds, paired = median of "
          f"per-round OmenDB/hnswlib")


def print_summary(summary: dict) -> None:
    o, h = summary["systems"][OMEN], summary["systems"][HNSW]
    paired = summary["paired"][EF_FLOOR]
    print("\nSummary (median [min–max] over repetitions; QPS per repetition = median over rounds)")
    rows = []
    for label, key, spec in (("build (vectors/s)", None, ",.0f"), (f"recall@{K} ef={EF_FLOOR}", "recall", ".4f"),
                             (f"1-query QPS ef={EF_FLOOR}", "single", ",.0f"),
                             (f"batch QPS ef={EF_FLOOR}", "batch", ",.0f")):
        metric = {None: "build_vps", "recall": "recall"}.get(key, f"{key}_qps")
        so, sh = (o[metric], h[metric]) if key is None else (o["sweep"][EF_FLOOR][metric], h["sweep"][EF_FLOOR][metric])
        pair = fmt_stats(paired[key], ".2f", "x") if key in MODES else "—"
        rows.append([label, fmt_stats(so, spec), fmt_stats(sh, spec), fmt_ratio(ratio(so["median"], sh["median"])),
                     pair, f"{spread(so):.0%} / {spread(sh):.0%}"])
    print(table(["", "OmenDB", "hnswlib", "ratio of medians", "paired ratio", "spread O/h"], rows))


def print_sweep(summary: dict, efs) -> None:
    o, h = summary["systems"][OMEN], summary["systems"][HNSW]
    print("\nef sweep (medians; O/h = ratio of medians, paired = median paired ratio)")
    rows = []
    for ef in efs:
        m = {key: (o["sweep"][ef][key]["median"], h["sweep"][ef][key]["median"]) for key in PER_SYSTEM}
        row = [ef, f"{m['recall'][0]:.4f}", f"{m['recall'][1]:.4f}"]
        for mode in MODES:
            qo, qh = m[f"{mode}_qps"]
            row += [f"{qo:,.0f}", f"{qh:,.0f}", fmt_ratio(ratio(qo, qh)),
                    fmt_ratio(summary["paired"][ef][mode]["median"])]
        rows.append(row)
    print(table(["ef", "recall O", "recall h", "1q QPS O", "1q QPS h", "1q O/h", "1q paired",
                 "batch O", "batch h", "batch O/h", "batch paired"], rows))


def print_equal_recall(eq: dict) -> None:
    print("\nQPS at equal recall (log-QPS interpolated along each sweep; — where a side does not bracket it)")
    rows = []
    for mode in MODES:
        for target, row in eq[mode].items():
            rows.append([f"{mode} @ recall {target}", *(f"{row[s]:,.0f}" if row[s] else "—" for s in (OMEN, HNSW)),
                         fmt_ratio(row["ratio"])])
    print(table(["", "OmenDB", "hnswlib", "OmenDB/hnswlib"], rows))


def print_floors(checks) -> None:
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
    runs = run_all(args, base, queries, truth)
    summary = summarize(runs, args.ef)
    eq = {mode: equal_recall(summary, args.ef, mode) for mode in MODES}
    checks = floors(summary)
    print_summary(summary)
    print_sweep(summary, args.ef)
    print_equal_recall(eq)
    print_floors(checks)
    env["loadavg_end"] = list(os.getloadavg())
    print(f"\nload avg at end: {fmt_loadavg(env['loadavg_end'])} | "
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
