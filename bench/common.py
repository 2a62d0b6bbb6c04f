"""Helpers shared by the Python benchmarks: statistics, recall, interpolation, tables, environment.

Nothing here imports a vector index; each benchmark script owns its systems.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
from importlib import metadata
from typing import Iterable, Optional, Sequence

import numpy as np


def stats(values: Sequence[float]) -> dict:
    """Median, min and max of ``values`` (the form every number is reported in)."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt_stats(summary: dict, spec: str = ",.0f") -> str:
    """``"median [min–max]"``, or just the median when there was one repetition."""
    median = format(summary["median"], spec)
    if summary["n"] == 1:
        return median
    return f"{median} [{format(summary['min'], spec)}–{format(summary['max'], spec)}]"


def spread(summary: dict) -> float:
    """(max − min) / median: the run-to-run noise of one figure."""
    return (summary["max"] - summary["min"]) / summary["median"] if summary["median"] else 0.0


def ratio(ours: Optional[float], theirs: Optional[float]) -> Optional[float]:
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def fmt_ratio(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.2f}x"


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of the true k nearest neighbours found; both (queries, k) integer arrays."""
    k = truth.shape[1]
    hits = (found[:, :k, None] == truth[:, None, :]).any(axis=2).sum()
    return float(hits) / truth.size


def qps_at_recall(recalls: Sequence[float], qps: Sequence[float], target: float) -> Optional[float]:
    """QPS at ``target`` recall, interpolated linearly in log-QPS between the two sweep points
    (ordered by ef) whose recalls bracket it. None when the sweep never reaches ``target`` or
    already exceeds it at its cheapest point (no bracket: extrapolating would be a guess)."""
    points = list(zip(recalls, qps))
    for (r0, q0), (r1, q1) in zip(points, points[1:]):
        if r0 < target <= r1:
            t = (target - r0) / (r1 - r0)
            return math.exp(math.log(q0) + t * (math.log(q1) - math.log(q0)))
    return None


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain-text table, first column left-aligned, the others right-aligned."""
    rows = [list(map(str, row)) for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for row in info:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def environment(packages: Sequence[str]) -> dict:
    """Versions of ``packages`` and Python, the CPU model, usable cores and the load average."""
    return {
        "versions": {name: package_version(name) for name in packages} | {"python": platform.python_version()},
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "loadavg": list(os.getloadavg()),
    }
