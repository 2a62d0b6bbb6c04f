"""Rows of the result tables, shared by the console summary and the Markdown report."""

from __future__ import annotations

from typing import Optional

from common import fmt_stats

from . import config
from .systems import SYSTEMS

DASH = "—"


def num(summary: Optional[dict], spec: str, ranges: bool, scale: float = 1.0, unit: str = "") -> str:
    """A median [min–max] figure (only the median when ``ranges`` is off); — when absent."""
    if summary is None:
        return DASH
    scaled = {k: (v * scale if k != "n" else v) for k, v in summary.items()}
    if not ranges:
        scaled["n"] = 1
    return fmt_stats(scaled, spec, unit)


def ratio(value: Optional[float]) -> str:
    """``1.23x``, or — when absent."""
    return DASH if value is None else f"{value:.2f}x"


def at_recall(s: dict, mode: str, target: str = "0.95") -> str:
    """QPS at recall ``target``; a trailing * marks a value measured above it (the cheapest ef already was)."""
    point = s["at_recall"][mode].get(target)
    if point is None:
        return DASH
    return f"{point['qps']:,.0f}" + ("*" if point["how"] == "above" else "")


def latency(s: dict, ranges: bool) -> str:
    """p50 / p99 single-query milliseconds at the cheapest ef with recall >= 0.95, and that ef."""
    lat = s.get("latency")
    if lat is None:
        return DASH
    return f"{num(lat['p50_ms'], '.3f', ranges)} / {num(lat['p99_ms'], '.3f', ranges)} (ef {lat['ef']})"


def paired(s: dict, ranges: bool) -> str:
    """Median paired ratios OmenDB / this system at ef=64, single queries / batch."""
    pair = s.get("paired_ef64") or {}
    return " / ".join(num(pair.get(mode), ".2f", ranges, unit="x") for mode in ("single", "batch"))


def memory(s: dict, ranges: bool) -> str:
    """Resident bytes per vector beyond the floats: peak during the build / after it / in a fresh
    process after open and one pass of queries."""
    return " / ".join(num(s[key], ",.0f", ranges)
                      for key in ("mem_peak_per_vector", "mem_after_per_vector", "mem_open_per_vector"))


def recall64(s: dict) -> str:
    """Single-query recall@10 at ef=64."""
    return DASH if s.get("recall_ef64") is None else f"{s['recall_ef64']:.4f}"


def filtered_recall(figures: Optional[dict]) -> str:
    """Filtered recall, with the mean number of hits returned when it is fewer than k."""
    if figures is None:
        return DASH
    short = f" ({figures['returned']:.1f} hits)" if figures["returned"] < config.K - 0.05 else ""
    return f"{figures['recall']:.3f}{short}"


def library_table(systems: dict, ranges: bool) -> tuple[list[str], list[list[str]]]:
    """One row per library: build (2 and 1 threads), recall at ef=64, QPS at recall 0.95 and 0.99
    (single, batch) and OmenDB / peer, latency, memory and disk beyond the floats, open + first query."""
    headers = ["system", "build vec/s (2 thr)", "build vec/s (1 thr)", "recall@10 ef=64", "QPS@0.95 1 thread",
               "QPS@0.95 batch", "QPS@0.99 1 thread", "QPS@0.99 batch", "OmenDB/peer QPS@0.95 1q",
               "OmenDB/peer paired ef=64 1q / batch", "p50 / p99 ms", "RSS B/vec peak / after build / after open",
               "disk B/vec", "open+1st query s"]
    rows = []
    for name, s in systems.items():
        if "build_vps" not in s:
            rows.append([SYSTEMS[name].label, "failed: see notes"] + [DASH] * (len(headers) - 2))
            continue
        vs = s.get("vs_omendb", {})
        rows.append([SYSTEMS[name].label, num(s["build_vps"], ",.0f", ranges), num(s["build_1t_vps"], ",.0f", ranges),
                     recall64(s), at_recall(s, "single"), at_recall(s, "batch"), at_recall(s, "single", "0.99"),
                     at_recall(s, "batch", "0.99"), ratio(vs.get("qps95_single")) if vs else "1.00x",
                     paired(s, ranges), latency(s, ranges), memory(s, ranges),
                     num(s["disk_per_vector"], ",.0f", ranges),
                     num(s["open_s"], ".3f", ranges)])
    return headers, rows


def database_table(systems: dict, ranges: bool) -> tuple[list[str], list[list[str]]]:
    """One row per database: insert throughput (each system's own durability), with the index
    build or final flush that follows, recall and QPS,
    filtered recall at 10% and 1%, memory, disk, open."""
    headers = ["system", "insert vec/s (batches of 1,000)", "insert+index vec/s", "recall@10 ef=64", "QPS@0.95 1 thread",
               "QPS@0.95 batch", "filtered recall 10% / 1%", "filtered QPS 10% / 1%",
               "RSS B/vec peak / after inserts / after open", "disk B/vec",
               "open+1st query s"]
    rows = []
    for name, s in systems.items():
        if "build_vps" not in s:
            rows.append([SYSTEMS[name].label, "failed: see notes"] + [DASH] * (len(headers) - 2))
            continue
        f = s.get("filtered", {})
        rec = " / ".join(filtered_recall(f.get(label)) for label in config.SELECTIVITIES)
        qps = " / ".join(num(f[label]["qps"], ",.0f", False) if label in f else DASH for label in config.SELECTIVITIES)
        rows.append([SYSTEMS[name].label, num(s["insert_vps"], ",.0f", ranges), num(s["build_vps"], ",.0f", ranges),
                     recall64(s), at_recall(s, "single"), at_recall(s, "batch"), rec, qps, memory(s, ranges),
                     num(s["disk_per_vector"], ",.0f", ranges),
                     num(s["open_s"], ".3f", ranges)])
    return headers, rows


def tier_table(tier: str, systems: dict, ranges: bool) -> tuple[list[str], list[list[str]]]:
    """The table of one tier."""
    return (library_table if tier == config.LIBRARY else database_table)(systems, ranges)
