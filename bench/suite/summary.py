"""From raw figures to the numbers the report shows: median [min–max] over repetitions, QPS at
equal recall along each sweep, latency at recall >= 0.95, and ratios OmenDB / peer."""

from __future__ import annotations

import statistics
from typing import Optional

from common import qps_at_recall, stats

from . import config
from .systems import SYSTEMS

MODES = ("single", "batch")


def maybe_stats(values: list) -> Optional[dict]:
    """``common.stats`` of the values, or None when there are none."""
    values = [v for v in values if v is not None]
    return stats(values) if values else None


def sweep_points(raw: dict, mode: str) -> list[dict]:
    """Per ef, in ef order: recall (median over repetitions), QPS (per repetition the median over
    rounds; then median [min–max]), paired ratio OmenDB / this system (same), latency percentiles
    (single queries: median [min–max] over every round)."""
    efs = sorted({ef for sweep in raw["sweeps"] for ef in sweep if mode in sweep[ef]}, key=int)
    points = []
    for ef in efs:
        slots = [sweep[ef][mode] for sweep in raw["sweeps"] if ef in sweep and mode in sweep[ef]]
        point = {"ef": int(ef), "recall": statistics.median(s["recall"] for s in slots),
                 "qps": maybe_stats([statistics.median(s["qps"]) for s in slots]),
                 "paired": maybe_stats([statistics.median(s["paired"]) for s in slots if s["paired"]])}
        if mode == "single":
            point["p50_ms"] = maybe_stats([1000 * v for s in slots for v in s["p50_s"]])
            point["p99_ms"] = maybe_stats([1000 * v for s in slots for v in s["p99_s"]])
        points.append(point)
    return points


def at_recall(points: list[dict], target: float) -> Optional[dict]:
    """QPS at ``target`` recall: interpolated between the two sweep points that bracket it
    ("interpolated"), or, when even the cheapest point is above the target, that point's QPS
    ("above": measured at a higher recall). None when the sweep never reaches the target."""
    if not points:
        return None
    recalls = [p["recall"] for p in points]
    qps = [p["qps"]["median"] for p in points]
    if recalls[0] >= target:
        return {"qps": qps[0], "how": "above", "recall": recalls[0]}
    value = qps_at_recall(recalls, qps, target)
    return None if value is None else {"qps": value, "how": "interpolated", "recall": target}


def latency(points: list[dict]) -> Optional[dict]:
    """Single-query p50/p99 at the smallest ef whose recall is >= LATENCY_RECALL."""
    for p in points:
        if p["recall"] >= config.LATENCY_RECALL:
            return {"ef": p["ef"], "recall": p["recall"], "p50_ms": p["p50_ms"], "p99_ms": p["p99_ms"]}
    return None


def system_summary(name: str, raw: dict) -> dict:
    """Every reported figure of system ``name`` on one data set (an exact-search system's recall
    at ef=64 is its recall at its one sweep point)."""
    if not raw.get("builds"):
        return {"error": raw.get("error", "no build completed")}
    out = {"versions": raw.get("versions", {}), "describe": raw.get("describe", {}),
           "build_vps": maybe_stats([b["vps"] for b in raw["builds"]]),
           "insert_vps": maybe_stats([b["insert_vps"] for b in raw["builds"]]),
           "finish_s": maybe_stats([b["finish_s"] for b in raw["builds"]]),
           "build_1t_vps": maybe_stats([b["vps"] for b in raw["builds_1t"]]),
           "build_1t_n": raw["builds_1t"][0]["n"] if raw["builds_1t"] else None,
           "mem_peak_per_vector": maybe_stats([b["mem_peak_per_vector"] for b in raw["builds"]]),
           "mem_after_per_vector": maybe_stats([b["mem_after_per_vector"] for b in raw["builds"]]),
           "mem_open_per_vector": maybe_stats([o.get("mem_open_per_vector") for o in raw["opens"]]),
           "disk_per_vector": maybe_stats([s["disk_per_vector"] for s in raw["saves"]]),
           "save_s": maybe_stats([s["save_s"] for s in raw["saves"]]),
           "open_s": maybe_stats([o["total_s"] for o in raw["opens"]]),
           "import_s": raw.get("import_s"),
           "sweep": {mode: sweep_points(raw, mode) for mode in MODES}}
    out["at_recall"] = {mode: {str(t): at_recall(out["sweep"][mode], t) for t in config.RECALL_TARGETS}
                        for mode in MODES}
    out["latency"] = latency(out["sweep"]["single"])
    at64 = [p for p in out["sweep"]["single"] if p["ef"] == 64 or SYSTEMS[name].exact]
    out["recall_ef64"] = at64[0]["recall"] if at64 else None
    out["paired_ef64"] = {mode: next((p["paired"] for p in out["sweep"][mode] if p["ef"] == 64), None)
                          for mode in MODES}
    if raw["filtered"]:
        out["filtered"] = {label: {"recall": statistics.median(f[label]["recall"] for f in raw["filtered"]),
                                   "qps": maybe_stats([f[label]["qps"] for f in raw["filtered"]]),
                                   "returned": statistics.median(f[label]["returned"] for f in raw["filtered"])}
                           for label in config.SELECTIVITIES if all(label in f for f in raw["filtered"])}
    if raw.get("error"):
        out["error"] = raw["error"]
    return out


def median_of(summary: Optional[dict]) -> Optional[float]:
    """The median of a ``stats`` dict, or None."""
    return None if summary is None else summary["median"]


def ratios(ours: dict, theirs: dict) -> dict:
    """OmenDB / peer for the headline figures, QPS at recall 0.95 and 0.99 included (speed: above 1 =
    OmenDB faster; memory, disk and open time: below 1 = OmenDB smaller or quicker). None where either
    side lacks the figure."""
    def r(a, b):
        return None if a is None or b is None or b == 0 else a / b

    out = {key: r(median_of(ours.get(key)), median_of(theirs.get(key)))
           for key in ("build_vps", "insert_vps", "build_1t_vps", "mem_peak_per_vector", "mem_after_per_vector",
                       "mem_open_per_vector", "disk_per_vector", "open_s")}
    for mode in MODES:
        for target in ("0.95", "0.99"):
            a, b = ours["at_recall"][mode].get(target), theirs["at_recall"][mode].get(target)
            out[f"qps{target[2:]}_{mode}"] = r(a and a["qps"], b and b["qps"])
    if "filtered" in ours and "filtered" in theirs:
        for label in ours["filtered"]:
            if label in theirs["filtered"]:
                out[f"filtered_qps_{label}"] = r(median_of(ours["filtered"][label]["qps"]),
                                                 median_of(theirs["filtered"][label]["qps"]))
    return out


def summarize(raw_results: dict) -> dict:
    """{dataset: {tier: {system: summary (with "vs_omendb" ratios)}}}."""
    out = {}
    for dataset, tiers in raw_results.items():
        out[dataset] = {}
        for tier, systems in tiers.items():
            summaries = {name: system_summary(name, raw) for name, raw in systems.items()}
            reference = summaries.get(config.REFERENCE[tier])
            for name, s in summaries.items():
                if reference and "build_vps" in reference and "build_vps" in s and name != config.REFERENCE[tier]:
                    s["vs_omendb"] = ratios(reference, s)
            out[dataset][tier] = summaries
    return out
