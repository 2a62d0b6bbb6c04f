"""Helpers shared by the Python benchmarks: statistics, timing, recall, interpolation, tables,
environment, cached data.

Nothing here builds a vector index; each benchmark script owns its systems.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np


def stats(values: Sequence[float]) -> dict:
    """Median, min and max of ``values`` (the form every number is reported in)."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratios(ours: Sequence[float], theirs: Sequence[float]) -> list[float]:
    """Element-wise ours/theirs of measurements taken side by side (one pair per round)."""
    return [a / b for a, b in zip(ours, theirs)]


def fmt_stats(summary: dict, spec: str = ",.0f", unit: str = "") -> str:
    """``"median [min–max]"``, or just the median when there was one repetition; ``unit`` follows the median."""
    median = format(summary["median"], spec) + unit
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


def timed_qps(call: Callable, queries: np.ndarray, *args) -> float:
    """Queries per second of one ``call(queries, *args)`` that returns ``(seconds, ...)``, after a
    gc.collect() so that earlier garbage is not collected on this call's clock."""
    gc.collect()
    return len(queries) / call(queries, *args)[0]


def query_slice(queries: np.ndarray, rnd: int, size: int) -> np.ndarray:
    """The queries timed in round ``rnd``: all of them when ``size`` is 0 or covers them, else the
    ``rnd``-th run of ``size`` consecutive queries (wrapping around), as a contiguous copy."""
    if not size or size >= len(queries):
        return queries
    return np.take(queries, range(rnd * size, (rnd + 1) * size), axis=0, mode="wrap")


def cached_split(spec, queries: int, k: int, cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Base, queries and exact top-``k`` truth of ``omendb.datasets.clustered(spec)`` with ``queries``
    rows split off (split seed 1); cached as .npy under ``cache``, named by every parameter."""
    from omendb.datasets import clustered, exact_neighbors, split_queries

    key = (f"clustered-n{spec.n - queries}-q{queries}-d{spec.dim}-lat{spec.latent_dim}-c{spec.clusters}"
           f"-noise{spec.noise}-seed{spec.seed}-k{k}")
    paths = {part: cache / f"{key}-{part}.npy" for part in ("base", "queries", "truth")}
    if all(path.exists() for path in paths.values()):
        return tuple(np.load(paths[part]) for part in ("base", "queries", "truth"))
    base, held_out = split_queries(clustered(spec), queries)
    base, held_out = np.ascontiguousarray(base), np.ascontiguousarray(held_out)
    truth = exact_neighbors(base, held_out, k)
    cache.mkdir(parents=True, exist_ok=True)
    for part, array in zip(("base", "queries", "truth"), (base, held_out, truth)):
        np.save(paths[part], array)
    return base, held_out, truth


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


def fmt_loadavg(values: Sequence[float]) -> str:
    return " ".join(f"{x:.2f}" for x in values)


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
