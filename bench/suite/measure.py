"""Runs one tier (libraries or databases) on one data set: ``repeats`` repetitions, each with fresh
workers (build, interleaved ef sweep, filtered search, save, then open + first query in fresh
workers), and for libraries the 1-thread builds. Returns the raw figures per system."""

from __future__ import annotations

import shutil

from . import config, phases
from .datasets import Dataset
from .phases import Context, call, rotate, start


def new_result(init: dict) -> dict:
    """The raw record of one system on one data set."""
    return {"versions": init["versions"], "import_s": init["import_s"], "builds": [], "builds_1t": [],
            "sweeps": [], "filtered": [], "saves": [], "opens": [], "describe": {}}


def repetition(ctx: Context, systems: list, rep: int, results: dict) -> None:
    """One repetition: fresh workers build, are swept and save; then fresh workers reopen."""
    threads, n = config.THREADS, ctx.dataset.n
    workers, folders = {}, {}
    try:
        for name in rotate(systems, rep):
            if name in ctx.errors or not config.runs_in(name, rep):
                continue
            try:
                workers[name], init = start(ctx, name, threads)
            except phases.WorkerError as error:
                ctx.errors.setdefault(name, f"init: {error}"[-4000:])
                continue
            results.setdefault(name, new_result(init))
        for name in rotate(list(workers), rep):
            folders[name] = ctx.work / "index" / name
            try:
                b = phases.build(ctx, workers[name], name, n, folders[name], threads)
            except phases.WorkerError as error:
                ctx.errors.setdefault(name, f"build: {error}"[-4000:])
                workers.pop(name).close()
                continue
            results[name]["builds"].append(b)
            results[name]["describe"] = b.pop("describe")
            ctx.progress.step(f"{ctx.dataset.name} build {name}", build_weight(n, ctx.dataset.dim))
            ctx.progress.note(f"  {ctx.dataset.name} rep {rep + 1}: {name} built {b['vps']:,.0f} vectors/s "
                              f"({threads} threads), +{b['mem_peak_per_vector']:,.0f} B/vector peak RSS")
        truth = (ctx.dataset.load("truth")[: ctx.queries], ctx.dataset.load("truth_dist")[: ctx.queries],
                 ctx.dataset.load("base", mmap=True), ctx.dataset.load("queries")[: ctx.queries])
        for name, sweep in phases.sweep(ctx, workers, ctx.efs, rep, truth).items():
            if name in workers:
                results[name]["sweeps"].append(sweep)
        if ctx.tier == config.DATABASE:
            for name, figures in phases.filtered(ctx, workers, rep).items():
                if name in workers:
                    results[name]["filtered"].append(figures)
        for name in rotate(list(workers), rep):
            r = call(ctx, workers, name, "save")
            if r is not None:
                size = phases.folder_bytes(folders[name])
                results[name]["saves"].append(r | {"disk_bytes": size,
                                                   "disk_per_vector": size / n - 4 * ctx.dataset.dim})
    finally:
        for worker in workers.values():
            worker.close()
    for name in rotate([s for s in systems if s in folders and s not in ctx.errors], rep):
        try:
            results[name]["opens"].append(phases.open_first_query(ctx, name, folders[name], threads))
        except phases.WorkerError as error:
            ctx.errors.setdefault(name, f"open: {error}"[-4000:])
        ctx.progress.step(f"{ctx.dataset.name} open {name}")
        shutil.rmtree(folders[name], ignore_errors=True)


def one_thread_builds(ctx: Context, systems: list, results: dict) -> None:
    """Libraries: builds on one thread, each in a fresh worker, on at most build1_max_n vectors."""
    n = min(ctx.dataset.n, ctx.profile.build1_max_n)
    for rep in range(ctx.profile.build1_repeats):
        for name in rotate([s for s in systems if s in results and s not in ctx.errors], rep):
            folder = ctx.work / "index-1t" / name
            try:
                worker, _ = start(ctx, name, threads=1)
                with worker:
                    b = phases.build(ctx, worker, name, n, folder, threads=1)
                b.pop("describe")
                results[name]["builds_1t"].append(b)
                ctx.progress.note(f"  {ctx.dataset.name}: {name} built {b['vps']:,.0f} vectors/s (1 thread, n={n:,})")
            except phases.WorkerError as error:
                ctx.errors.setdefault(name, f"1-thread build: {error}"[-4000:])
            ctx.progress.step(f"{ctx.dataset.name} 1-thread build {name}", 2 * build_weight(n, ctx.dataset.dim))
            shutil.rmtree(folder, ignore_errors=True)


def run_tier(ctx: Context, systems: list) -> dict:
    """All repetitions of one tier on one data set; {system: raw record or {"error": ...}}."""
    results: dict = {}
    for rep in range(config.repeats(ctx.profile, ctx.dataset.name, ctx.tier)):
        repetition(ctx, systems, rep, results)
    if ctx.tier == config.LIBRARY:
        one_thread_builds(ctx, systems, results)
    for name in systems:
        if name in ctx.errors:
            results.setdefault(name, {})["error"] = ctx.errors[name]
    return results


def build_weight(n: int, dim: int) -> int:
    """Progress units of one build: about its cost relative to an ef step (20,000 x 128 = 1)."""
    return max(1, round(n * dim / (20_000 * 128)))


def steps(profile: config.Profile, dataset: Dataset, tier: str, systems: list) -> int:
    """Progress units one tier of one prepared data set takes: builds (weighted by size), ef
    points, filtered search, opens and 1-thread builds."""
    efs = profile.ef_database if tier == config.DATABASE else profile.ef_library
    weight = build_weight(dataset.n, dataset.dim)
    one_thread = 2 * build_weight(min(dataset.n, profile.build1_max_n), dataset.dim)
    total = profile.build1_repeats * len(systems) * one_thread if tier == config.LIBRARY else 0
    for rep in range(config.repeats(profile, dataset.name, tier)):
        active = sum(config.runs_in(s, rep) for s in systems)
        total += (weight + 1) * active + len(efs) + (1 if tier == config.DATABASE else 0)
    return total
