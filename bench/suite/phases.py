"""The phases of one repetition, each over the live workers of one tier: build, the interleaved ef
sweep, filtered search, save, and open + first query in fresh workers.

Systems take turns in an order that rotates every round (A B C, B C A, ...), so a burst of outside
load lands on all of them alike; every round also records each system's QPS over the reference
system's (OmenDB) QPS measured in that same round: the paired ratio.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import config
from .client import Worker, WorkerError, python_for
from .datasets import Dataset
from .progress import Progress
from .recall import recall_at_k
from .systems import SYSTEMS

WARMUP_QUERIES = 20


@dataclass
class Context:
    """What every phase needs about the run."""

    dataset: Dataset
    profile: config.Profile
    tier: str
    work: Path  # indexes and worker logs of this data set and tier
    pypi_python: str | None
    progress: Progress
    errors: dict  # system -> what failed (the first failure on this data set and tier)

    @property
    def queries(self) -> int:
        """Queries this tier uses (the first N of the set)."""
        if self.tier == config.DATABASE:
            return min(self.dataset.queries, self.profile.db_queries)
        return self.dataset.queries

    @property
    def efs(self) -> tuple[int, ...]:
        """The ef sweep of this tier."""
        return self.profile.ef_database if self.tier == config.DATABASE else self.profile.ef_library

    @property
    def timed(self) -> int:
        """Queries answered per timed measurement."""
        if self.tier == config.DATABASE:
            return self.queries
        return max(self.queries, self.profile.timed_queries)


def rotate(items: list, shift: int) -> list:
    """``items`` rotated left by ``shift``."""
    if not items:
        return []
    shift %= len(items)
    return items[shift:] + items[:shift]


def start(ctx: Context, name: str, threads: int, load_base: bool = True) -> tuple[Worker, dict]:
    """A fresh worker for ``name`` with the data set loaded; returns it and its init reply."""
    info = SYSTEMS[name]
    worker = Worker(info, python_for(info, ctx.pypi_python), ctx.work / "logs" / f"{name}.log")
    settings = {"k": config.K, "M": config.M, "ef_construction": config.EF_CONSTRUCTION, "threads": threads}
    try:
        reply = worker.call("init", dataset=str(ctx.dataset.folder), metric=ctx.dataset.metric, settings=settings,
                            packages=list(info.packages), queries=ctx.queries, load_base=load_base)
    except WorkerError:
        worker.close()
        raise
    return worker, reply


def call(ctx: Context, workers: dict, name: str, cmd: str, **args) -> dict | None:
    """``workers[name].call(cmd)``; on failure records the error, stops that worker, removes it
    from ``workers`` and returns None, so the other systems go on."""
    try:
        return workers[name].call(cmd, **args)
    except WorkerError as error:
        ctx.errors.setdefault(name, f"{cmd}: {error}"[-4000:])
        ctx.progress.note(f"  ! {name} failed in {cmd} on {ctx.dataset.name}: {str(error).splitlines()[-1][:200]}")
        workers.pop(name).close()
        return None


def folder_bytes(path: Path) -> int:
    """Total size of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(ctx: Context, worker: Worker, name: str, n: int, folder: Path, threads: int) -> dict:
    """Builds ``n`` rows into ``folder``; throughput and resident bytes per vector beyond the floats."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    batch = config.INSERT_BATCH if ctx.tier == config.DATABASE else n
    r = worker.call("build", folder=str(folder), n=n, batch=batch)
    floats = 4 * ctx.dataset.dim
    return r | {"threads": threads, "insert_vps": n / r["insert_s"], "vps": n / (r["insert_s"] + r["finish_s"]),
                "mem_peak_per_vector": (r["peak_rss"] - r["baseline_rss"]) / n - floats,
                "mem_after_per_vector": (r["after_rss"] - r["baseline_rss"]) / n - floats}


def padded(rows: list) -> np.ndarray:
    """Result rows of ids as a (rows, k) array, -1 where fewer than k came back."""
    return np.array([list(row[: config.K]) + [-1] * (config.K - len(row)) for row in rows], dtype=np.int64)


def sweep(ctx: Context, workers: dict, efs: tuple, rep: int, truth: tuple) -> dict:
    """Recall and QPS of every live system at every ef, in rotating rounds. Returns
    {name: {ef: {mode: {...}}}}; a system whose worker fails is dropped from ``workers``."""
    reference = config.REFERENCE[ctx.tier]
    out = {name: {} for name in workers}
    for e, ef in enumerate(efs if len(workers) else ()):
        active = {name: w for name, w in workers.items() if e == 0 or not SYSTEMS[name].exact}
        for name in list(active):
            call(ctx, workers, name, "query", mode="single", ef=ef, count=min(WARMUP_QUERIES, ctx.queries),
                 want_ids=False)
        for rnd in range(ctx.profile.rounds):
            order = rotate([name for name in active if name in workers], rep + e + rnd)
            for mode in ("single", "batch"):
                qps = {}
                for name in order:
                    r = call(ctx, workers, name, "query", mode=mode, ef=ef, count=ctx.timed, want_ids=rnd == 0)
                    if r is None:
                        continue
                    qps[name] = r["queries"] / r["seconds"]
                    slot = out[name].setdefault(ef, {}).setdefault(mode, {"qps": [], "paired": [], "p50_s": [],
                                                                          "p99_s": [], "recall": None})
                    slot["qps"].append(qps[name])
                    if mode == "single":
                        slot["p50_s"].append(r["p50_s"])
                        slot["p99_s"].append(r["p99_s"])
                    if rnd == 0:
                        slot["recall"] = recall_at_k(padded(r["ids"])[: ctx.queries], *truth, ctx.dataset.metric)
                for name in qps:
                    if reference in qps:
                        out[name][ef][mode]["paired"].append(qps[reference] / qps[name])
        ctx.progress.step(f"{ctx.dataset.name} {ctx.tier} ef={ef}")
    return out


def filtered(ctx: Context, workers: dict, rep: int) -> dict:
    """Filtered recall@k and QPS at each selectivity (ef=FILTER_EF), against the exact filtered truth."""
    base = ctx.dataset.load("base", mmap=True)
    queries = ctx.dataset.load("queries")[: ctx.profile.filtered_queries]
    out = {name: {} for name in workers}
    for label, below in config.SELECTIVITIES.items():
        truth = (ctx.dataset.load(f"filtered-{below}"), ctx.dataset.load(f"filtered-{below}-dist"))
        count = min(len(queries), ctx.queries)
        for name in rotate(list(workers), rep):
            r = call(ctx, workers, name, "filtered", below=below, count=count, ef=config.FILTER_EF)
            if r is None:
                continue
            found = padded(r["ids"])
            out[name][label] = {"recall": recall_at_k(found, truth[0][:count], truth[1][:count], base,
                                                      queries[:count], ctx.dataset.metric),
                                "qps": r["queries"] / r["seconds"],
                                "returned": float(np.mean([len(ids) for ids in r["ids"]]))}
    ctx.progress.step(f"{ctx.dataset.name} filtered")
    return out


def open_first_query(ctx: Context, name: str, folder: Path, threads: int) -> dict:
    """Time to open what ``save`` wrote and answer one query, in a fresh worker; then the resident
    bytes per vector beyond the floats once that worker has answered every query at the largest ef."""
    worker, init = start(ctx, name, threads, load_base=False)
    with worker:
        r = worker.call("open", folder=str(folder), ef=max(ctx.efs))
    return r | {"import_s": init["import_s"],
                "mem_open_per_vector": r["rss_queried_delta"] / ctx.dataset.n - 4 * ctx.dataset.dim}
