"""The suite's command line: choose a profile, set up, prepare the data, run every tier of every
data set, write the JSON, print the summary and render the report."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

from common import environment, fmt_loadavg, table

from . import config, datasets, measure, pypi_venv, report
from .client import Worker, WorkerError
from .phases import Context
from .progress import Progress
from .summary import summarize
from .systems import SYSTEMS
from .tables import tier_table

REPO = Path(__file__).resolve().parents[2]
TIER_NAMES = {config.LIBRARY: "libraries", config.DATABASE: "databases"}
PACKAGES = ("omendb", "numpy", "hnswlib", "faiss-cpu", "usearch", "zvec", "pyvsag", "scann", "scalable-vs",
            "chromadb", "lancedb", "pyarrow", "qdrant-client", "matplotlib", "tqdm")
PROBES_AT_ONCE = 4  # probe workers running together


def parse_args(argv=None) -> argparse.Namespace:
    """Options, the profile they select, and the default paths of the results and the report."""
    p = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the <= 5-minute run (small sets, 1 repetition)")
    mode.add_argument("--smoke", action="store_true", help="the CI smoke run (a tiny generated set, seconds)")
    p.add_argument("--datasets", help=f"comma-separated subset of: {', '.join(datasets.SPECS)}")
    p.add_argument("--systems", help=f"comma-separated subset of: {', '.join(SYSTEMS)}")
    p.add_argument("--repeats", type=int, help="override the profile's repetitions")
    p.add_argument("--out", type=Path, help="results JSON (default <cache>/suite-<profile>-<time>.json)")
    p.add_argument("--report", type=Path, help="Markdown report to write, with its figures beside it "
                   "(default: docs/benchmarks.md for the full run, <cache>/report-<profile>/benchmarks.md otherwise)")
    p.add_argument("--no-report", action="store_true", help="write the JSON only")
    p.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench", help="data, truth and venv cache")
    p.add_argument("--no-setup", action="store_true", help="never install the PyPI omendb environment")
    p.add_argument("--no-progress", action="store_true", help="plain log lines instead of a progress bar")
    args = p.parse_args(argv)
    args.profile = config.PROFILES["smoke" if args.smoke else "quick" if args.quick else "full"]
    if args.repeats:
        args.profile = replace(args.profile, repeats=args.repeats)
    args.dataset_names = tuple(args.datasets.split(",")) if args.datasets else args.profile.datasets
    args.system_names = tuple(args.systems.split(",")) if args.systems else args.profile.systems
    for name in args.dataset_names:
        if name not in datasets.SPECS:
            p.error(f"unknown data set {name!r}")
    for name in args.system_names:
        if name not in SYSTEMS:
            p.error(f"unknown system {name!r}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.out = args.out or args.cache / f"suite-{args.profile.name}-{stamp}.json"
    if args.report is None:
        default = "docs/benchmarks.md" if args.profile.name == "full" and not (args.datasets or args.systems) else None
        args.report = REPO / default if default else args.cache / f"report-{args.profile.name}" / "benchmarks.md"
    args.work = args.cache / f"run-{args.profile.name}-{stamp}"
    return args


def probe(name: str, logs: Path) -> str | None:
    """Why ``name`` cannot run here, from a worker that imports its adapter: the import error, or the
    adapter's own reason (Adapter.unsupported); None when it can run."""
    try:
        with Worker(SYSTEMS[name], sys.executable, logs / f"{name}.log") as worker:
            return worker.call("probe")["unsupported"]
    except WorkerError as error:
        return f"import failed: {str(error).strip().splitlines()[-1]} (log: {logs / name}.log)"


def system_status(names: tuple, cache: Path, setup: bool, logs: Path) -> tuple[dict, str | None]:
    """{system: {"status": "ok"} or {"status": "skipped", "reason": ...}} and the PyPI omendb's python.
    A system is skipped when its modules are missing, fail to import or its adapter says it cannot
    run on this machine (probed in worker processes, ``logs`` holds their stderr)."""
    status, pypi_python = {}, None
    for name in names:
        info = SYSTEMS[name]
        if info.separate_python:
            env = pypi_venv.ensure(cache, install=setup)
            if "error" in env:
                status[name] = {"status": "skipped", "reason": env["error"]}
            else:
                pypi_python = env["python"]
                status[name] = {"status": "ok", "version": env["version"]}
            continue
        missing = [m for m in info.imports if importlib.util.find_spec(m) is None]
        status[name] = ({"status": "skipped", "reason": f"not installed: {', '.join(missing)} "
                                                        f"(pip install -r requirements-bench.txt)"}
                        if missing else {"status": "ok"})
    probed = [name for name in names if status[name]["status"] == "ok" and not SYSTEMS[name].separate_python]
    with ThreadPoolExecutor(PROBES_AT_ONCE) as pool:
        for name, reason in zip(probed, pool.map(lambda name: probe(name, logs), probed)):
            if reason:
                status[name] = {"status": "skipped", "reason": reason}
    return status, pypi_python


def machine() -> dict:
    """CPU model, usable cores, memory, load average (through common.environment) and versions."""
    env = environment(PACKAGES)
    with open("/proc/meminfo", encoding="ascii") as info:
        env["memory_bytes"] = int(next(line for line in info if line.startswith("MemTotal")).split()[1]) * 1024
    import omendb

    env["simd_isa"] = omendb.simd_isa()
    return env


def print_summary(record: dict) -> None:
    """The summary tables on stdout (medians only; the report has the ranges)."""
    print("\n== Summary (medians; ratios are OmenDB / peer; * = measured above the target recall) ==")
    for name, tiers in record["summary"].items():
        ds = record["datasets"][name]
        print(f"\n{name}: {ds['n']:,} x {ds['dim']}, {ds['metric']}")
        for tier, systems in tiers.items():
            if systems:
                headers, rows = tier_table(tier, systems, ranges=False)
                print(table(headers, rows))
    for system, reason in record["skipped_systems"].items():
        print(f"not run: {system}: {reason}")
    for cap in record["caps"]:
        print(f"capped: {cap['system']} on {cap['dataset']}: {cap['reason']}")
    for dataset, tiers in record["summary"].items():
        for systems in tiers.values():
            for system, s in systems.items():
                if "error" in s:
                    print(f"FAILED: {system} on {dataset}: {s['error'].strip().splitlines()[-1][:300]}")


def run(args) -> dict:
    """Runs everything the arguments ask for; returns the full record (also written to --out)."""
    started, stamp = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M:%S %Z")
    status, pypi_python = system_status(args.system_names, args.cache, not args.no_setup, args.work / "probe")
    runnable = tuple(s for s in args.system_names if status[s]["status"] == "ok")
    env = machine()
    print(f"== OmenDB benchmark suite, profile '{args.profile.name}' ==\ncpu: {env['cpu']} | cores: {env['cores']} | "
          f"memory: {env['memory_bytes'] / 2**30:.0f} GiB | load {fmt_loadavg(env['loadavg'])}")
    print("systems: " + ", ".join(runnable) + "".join(f"\nnot run: {s}: {status[s]['reason']}"
                                                       for s in args.system_names if s not in runnable))
    prepared, skipped_sets = {}, {}
    for name in args.dataset_names:
        why = datasets.available(name)
        if why:
            skipped_sets[name] = why
            print(f"data set {name} skipped: {why}")
            continue
        t0 = time.perf_counter()
        prepared[name] = datasets.prepare(name, args.cache, config.K, config.SELECTIVITIES)
        print(f"data {name}: {prepared[name].n:,} x {prepared[name].dim} ready in {time.perf_counter() - t0:.1f} s")
    plan = config.plan(args.profile, {n: d.n for n, d in prepared.items()}, runnable)
    total = sum(measure.steps(args.profile, prepared[name], tier, p["run"]) for name, tiers in plan.items()
                for tier, p in tiers.items())
    progress = Progress(total, enabled=not args.no_progress)
    raw = {}
    try:
        for name, ds in prepared.items():
            raw[name] = {}
            for tier, p in plan[name].items():
                if not p["run"]:
                    continue
                ctx = Context(ds, args.profile, tier, args.work / name / tier, pypi_python, progress, {})
                progress.note(f"[{name}] {TIER_NAMES[tier]}: {', '.join(p['run'])}")
                raw[name][tier] = measure.run_tier(ctx, p["run"])
    finally:
        progress.close()
        for folder in args.work.glob("*/*/index*"):  # saved indexes left by a failure; logs stay
            shutil.rmtree(folder, ignore_errors=True)
    record = {
        "schema": 1, "profile": asdict(args.profile), "started": stamp,
        "command": "python bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "env": env | {"loadavg_end": list(os.getloadavg())},
        "params": {"k": config.K, "M": config.M, "ef_construction": config.EF_CONSTRUCTION,
                   "threads": config.THREADS, "insert_batch": config.INSERT_BATCH,
                   "selectivities": config.SELECTIVITIES, "filter_ef": config.FILTER_EF,
                   "recall_targets": config.RECALL_TARGETS, "reference": config.REFERENCE},
        "systems": {s: asdict(SYSTEMS[s]) | status[s] for s in args.system_names},
        "skipped_systems": {s: status[s]["reason"] for s in args.system_names if s not in runnable},
        "skipped_datasets": skipped_sets,
        "caps": [{"dataset": d, "system": s, "reason": why}
                 for d, tiers in plan.items() for p in tiers.values() for s, why in p["capped"].items()],
        "datasets": {name: ds.record() for name, ds in prepared.items()},
        "raw": raw,
        "logs": str(args.work),
    }
    record["summary"] = summarize(raw)
    record["wall_s"] = time.perf_counter() - started
    return record


def main(argv=None) -> int:
    """Runs, writes the JSON, prints the summary, renders the report. Exit status 1 only when
    OmenDB itself failed somewhere; a peer's failure is reported in the summary and the report."""
    args = parse_args(argv)
    record = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1, default=str))
    print_summary(record)
    if not args.no_report:
        report.render(record, args.report)
        print(f"\nreport: {args.report}")
    print(f"results: {args.out}\nworker logs: {args.work}/<data set>/<tier>/logs\n"
          f"wall time: {record['wall_s']:.0f} s | load {fmt_loadavg(os.getloadavg())}")
    own = [s for tiers in record["summary"].values() for systems in tiers.values()
           for s, v in systems.items() if "error" in v and s in config.REFERENCE.values()]
    return 1 if own else 0  # a peer's failure is reported, not fatal; OmenDB's is
