"""Compares two results files of the benchmark suite (bench/run.py): for every data set, system
and headline figure present in both, the old and new medians and new / old.

    python bench/compare.py OLD.json NEW.json [--threshold 0.10]

Changes beyond the threshold are marked (+ better, - worse: higher is better for throughput, QPS
and recall; lower for memory, disk and open time). Absolute figures move with machine load; compare
runs from the same machine, and prefer the OmenDB / peer ratios (also listed) to raw speeds.
Exit status 0 (a report, not a gate).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table  # noqa: E402

# figure -> (how to read it from a system summary, higher is better)
FIGURES = {
    "build vec/s (2 thr)": (lambda s: med(s.get("build_vps")), True),
    "build vec/s (1 thr)": (lambda s: med(s.get("build_1t_vps")), True),
    "insert vec/s": (lambda s: med(s.get("insert_vps")), True),
    "recall@10 ef=64": (lambda s: s.get("recall_ef64"), True),
    "QPS@0.95 1 thread": (lambda s: at(s, "single", "0.95"), True),
    "QPS@0.95 batch": (lambda s: at(s, "batch", "0.95"), True),
    "QPS@0.99 1 thread": (lambda s: at(s, "single", "0.99"), True),
    "p99 ms @0.95": (lambda s: med((s.get("latency") or {}).get("p99_ms")), False),
    "RSS B/vec": (lambda s: med(s.get("mem_peak_per_vector")), False),
    "RSS B/vec after open": (lambda s: med(s.get("mem_open_per_vector")), False),
    "disk B/vec": (lambda s: med(s.get("disk_per_vector")), False),
    "open+1st query s": (lambda s: med(s.get("open_s")), False),
    "OmenDB/peer QPS@0.95": (lambda s: (s.get("vs_omendb") or {}).get("qps95_single"), None),
    "filtered recall 1%": (lambda s: ((s.get("filtered") or {}).get("1%") or {}).get("recall"), True),
}


def med(summary):
    """The median of a ``stats`` dict, or None."""
    return None if summary is None else summary["median"]


def at(s: dict, mode: str, target: str):
    """QPS at recall ``target`` of one mode, or None."""
    point = (s.get("at_recall") or {}).get(mode, {}).get(target)
    return point and point["qps"]


def rows(old: dict, new: dict, threshold: float) -> list[list[str]]:
    """One row per (data set, tier, system, figure) present in both summaries."""
    out = []
    for dataset, tiers in new["summary"].items():
        for tier, systems in tiers.items():
            for system, s_new in systems.items():
                s_old = old["summary"].get(dataset, {}).get(tier, {}).get(system)
                if not s_old:
                    continue
                for figure, (read, higher_better) in FIGURES.items():
                    a, b = read(s_old), read(s_new)
                    if a is None or b is None or a == 0:
                        continue
                    change = b / a
                    mark = ""
                    if higher_better is not None and abs(change - 1) > threshold:
                        mark = "+" if (change > 1) == higher_better else "-"
                    out.append([f"{dataset} / {system}", figure, fmt(a), fmt(b), f"{change:.2f}x", mark])
    return out


def fmt(value: float) -> str:
    """Large numbers with thousands separators, small ones with 4 significant digits."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def main(argv=None) -> int:
    """Prints the comparison table; always exits 0."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--threshold", type=float, default=0.10, help="relative change that is marked (default 0.10)")
    args = p.parse_args(argv)
    old, new = (json.loads(path.read_text()) for path in (args.old, args.new))
    for label, record in (("old", old), ("new", new)):
        env = record["env"]
        print(f"{label}: {record['started']} profile {record['profile']['name']} | {env['cpu']} | "
              f"omendb {env['versions'].get('omendb')} | load {env['loadavg'][0]:.2f}")
    found = rows(old, new, args.threshold)
    if not found:
        print("no figure is present in both files")
        return 0
    print(table(["data set / system", "figure", "old", "new", "new/old", ""], found))
    marked = [r for r in found if r[-1]]
    print(f"\n{len(marked)} of {len(found)} figures changed by more than {args.threshold:.0%}"
          f" ({sum(r[-1] == '+' for r in marked)} better, {sum(r[-1] == '-' for r in marked)} worse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
