"""The report's figures (matplotlib, PNG): recall–QPS curves per data set, build and insert
throughput bars, memory and disk bytes per vector bars."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import config  # noqa: E402
from .systems import SYSTEMS  # noqa: E402

COLORS = {"omendb": "#d62728", "omendb-disk": "#8b0000", "hnswlib": "#1f77b4", "faiss": "#2ca02c",
          "usearch": "#9467bd", "omendb-pypi": "#ff7f0e", "chroma": "#8c564b", "lancedb": "#17becf",
          "qdrant": "#7f7f7f", "omendb-sq8": "#ff9896", "faiss-sq8": "#98df8a", "usearch-i8": "#c5b0d5",
          "zvec-hnsw": "#e377c2", "zvec-int8": "#f7b6d2", "zvec-int8-refine": "#ad494a",
          "zvec-rabitq-refine": "#7b4173", "vsag-hgraph": "#bcbd22", "vsag-sq8": "#dbdb8d", "scann": "#393b79",
          "svs": "#6b6ecf", "svs-lvq": "#9edae5"}
DPI = 110


def recall_qps(name: str, tiers: dict, path: Path) -> None:
    """Recall@10 (x) against QPS (y, log) along the ef sweep; single-thread and batch panels;
    libraries solid, databases dashed."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, mode, title in zip(axes, ("single", "batch"), ("one query per call, 1 thread",
                                                           f"batch call, {config.THREADS} threads")):
        for tier, systems in tiers.items():
            for system, s in systems.items():
                points = s.get("sweep", {}).get(mode, [])
                if not points:
                    continue
                style = "-" if tier == config.LIBRARY else "--"
                ax.plot([p["recall"] for p in points], [p["qps"]["median"] for p in points], style, marker="o",
                        markersize=3, color=COLORS.get(system), label=SYSTEMS[system].label)
        ax.axvline(config.LATENCY_RECALL, color="#bbbbbb", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{name}: recall against QPS over the ef sweep (medians)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def grouped_bars(ax, summary: dict, tier: str, key: str, ylabel: str, log: bool = False) -> None:
    """One group per data set, one bar per system of ``tier``: the median of ``key``."""
    names = list(summary)
    systems = [s for s in SYSTEMS if SYSTEMS[s].tier == tier
               and any(s in summary[d].get(tier, {}) for d in names)]
    width = 0.8 / max(1, len(systems))
    for i, system in enumerate(systems):
        xs, ys = [], []
        for j, dataset in enumerate(names):
            value = summary[dataset].get(tier, {}).get(system, {}).get(key)
            if value:
                xs.append(j + (i - (len(systems) - 1) / 2) * width)
                ys.append(value["median"])
        ax.bar(xs, ys, width, color=COLORS.get(system), label=SYSTEMS[system].label)
    ax.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7)


def bars(summary: dict, panels: list[tuple], title: str, path: Path) -> None:
    """A figure of grouped-bar panels, each (tier, key, y label, panel title, log scale)."""
    cols = 2 if len(panels) == 4 else min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4.2 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (tier, key, ylabel, panel_title, log) in zip(axes.flat, panels):
        grouped_bars(ax, summary, tier, key, ylabel, log)
        ax.set_title(panel_title, fontsize=10)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def render_all(summary: dict, folder: Path) -> list[tuple[str, str]]:
    """Writes every figure into ``folder``; returns (file name, caption) pairs in report order."""
    folder.mkdir(parents=True, exist_ok=True)
    lib, db = config.LIBRARY, config.DATABASE
    figures = []
    for name, tiers in summary.items():
        file = f"recall-qps-{name}.png"
        recall_qps(name, tiers, folder / file)
        figures.append((file, f"{name}: recall@10 against queries per second"))
    bars(summary, [(lib, "build_vps", "vectors/s", f"libraries, {config.THREADS} threads", True),
                   (lib, "build_1t_vps", "vectors/s", "libraries, 1 thread", True),
                   (db, "insert_vps", "vectors/s", "databases: inserts, batches of 1,000", True)],
         "Build and insert throughput (higher is better)", folder / "build-throughput.png")
    figures.append(("build-throughput.png", "build throughput (vectors/s)"))
    bars(summary, [(lib, "mem_peak_per_vector", "bytes / vector", "libraries: peak during the build", False),
                   (lib, "mem_after_per_vector", "bytes / vector", "libraries: after the build", False),
                   (lib, "mem_open_per_vector", "bytes / vector", "libraries: after open + queries", False),
                   (db, "mem_peak_per_vector", "bytes / vector", "databases: peak during the inserts", False),
                   (db, "mem_after_per_vector", "bytes / vector", "databases: after the inserts", False),
                   (db, "mem_open_per_vector", "bytes / vector", "databases: after open + queries", False)],
         "Resident memory per vector beyond the raw float32 vector (lower is better)",
         folder / "memory-per-vector.png")
    figures.append(("memory-per-vector.png", "resident memory per vector beyond the raw floats"))
    bars(summary, [(lib, "disk_per_vector", "bytes / vector", "libraries", False),
                   (db, "disk_per_vector", "bytes / vector", "databases", False)],
         "On-disk bytes per vector beyond the raw float32 vector (lower is better)", folder / "disk-per-vector.png")
    figures.append(("disk-per-vector.png", "on-disk bytes per vector beyond the raw floats"))
    return figures
