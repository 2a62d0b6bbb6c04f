"""Renders a results JSON as Markdown (docs/benchmarks.md for the full run) with its PNG figures
in a folder beside it named after the file (docs/benchmarks/). Also runnable on a saved JSON:
``python bench/run.py report RESULTS.json [--out docs/benchmarks.md]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import config
from .summary import summarize
from .systems import SYSTEMS
from .tables import DASH, tier_table

BEHIND_SPEED = 0.95  # OmenDB / peer below this: the peer is ahead
BEHIND_SIZE = 1.05  # OmenDB / peer above this (memory, disk, open time): the peer is ahead
SIZE_MIN_N = 50_000  # memory and disk per vector are compared on sets at least this large
SPEED_FIGURES = {"build_vps": "build throughput (2 threads)", "build_1t_vps": "build throughput (1 thread)",
                 "insert_vps": "insert throughput (batches of 1,000)", "qps95_single": "single-query QPS at recall 0.95",
                 "qps95_batch": "batch QPS at recall 0.95", "qps99_single": "single-query QPS at recall 0.99",
                 "qps99_batch": "batch QPS at recall 0.99", "filtered_qps_10%": "filtered QPS at 10%",
                 "filtered_qps_1%": "filtered QPS at 1%"}
SIZE_FIGURES = {"mem_peak_per_vector": "peak resident memory per vector during the build",
                "mem_after_per_vector": "resident memory per vector after the build",
                "mem_open_per_vector": "resident memory per vector after open and queries",
                "disk_per_vector": "disk bytes per vector",
                "open_s": "open + first query time"}


def md_table(headers, rows) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def behind(record: dict) -> list[str]:
    """Sentences for every figure where a peer beats OmenDB, with the ratio: per data set, worst
    first. Memory, disk and open time only on sets of at least SIZE_MIN_N vectors, where fixed
    overheads no longer dominate."""
    found = []
    for order, (dataset, tiers) in enumerate(record["summary"].items()):
        sized = record["datasets"][dataset]["n"] >= SIZE_MIN_N
        for tier, systems in tiers.items():
            for system, s in systems.items():
                for key, value in s.get("vs_omendb", {}).items():
                    # A library's insert calls may only store rows (zvec builds its graph in
                    # optimize()): its build throughput, insert and finish together, is the figure.
                    if value is None or (key == "insert_vps" and tier == config.LIBRARY):
                        continue
                    label = SYSTEMS[system].label
                    if key in SPEED_FIGURES and value < BEHIND_SPEED:
                        found.append((order, value, f"{dataset}: {label} is {1 / value:.2f}x faster in {SPEED_FIGURES[key]} "
                                             f"(OmenDB / {label} = {value:.2f}x)"))
                    if key in SIZE_FIGURES and value > BEHIND_SIZE and sized:
                        found.append((order, 1 / value, f"{dataset}: {label} needs {value:.2f}x less in "
                                                 f"{SIZE_FIGURES[key]} (OmenDB / {label} = {value:.2f}x)"))
                ours, theirs = systems.get(config.REFERENCE[tier_of(system)], {}), s
                if system not in config.REFERENCE.values() and ours.get("recall_ef64") and theirs.get("recall_ef64"):
                    gap = theirs["recall_ef64"] - ours["recall_ef64"]
                    if gap > 0.005:
                        found.append((order, 1 - gap, f"{dataset}: {SYSTEMS[system].label} reaches {gap:.3f} more "
                                               f"recall@10 at ef=64 ({theirs['recall_ef64']:.4f} vs "
                                               f"{ours['recall_ef64']:.4f})"))
    return [text for _, _, text in sorted(found)]


def tier_of(system: str) -> str:
    """LIBRARY or DATABASE."""
    return SYSTEMS[system].tier


def headline(summary: dict) -> list[str]:
    """Per data set and peer: OmenDB / peer for QPS at recall 0.95 and build throughput."""
    lines = []
    for dataset, tiers in summary.items():
        for tier, systems in tiers.items():
            parts = []
            for system, s in systems.items():
                vs = s.get("vs_omendb")
                if not vs:
                    continue
                q, b = vs.get("qps95_single"), vs.get("build_vps") if tier == config.LIBRARY else vs.get("insert_vps")
                parts.append(f"{SYSTEMS[system].label} {q:.2f}x QPS / {b:.2f}x {'build' if tier == config.LIBRARY else 'insert'}"
                             if q and b else f"{SYSTEMS[system].label} {DASH}")
            if parts:
                lines.append(f"- **{dataset}** ({'libraries' if tier == config.LIBRARY else 'databases'}): "
                             + "; ".join(parts))
    return lines


def sweep_table(tiers: dict, mode: str) -> str:
    """ef by system: recall and QPS (median) along the sweep."""
    systems = [(tier, name, s) for tier, group in tiers.items() for name, s in group.items() if s.get("sweep")]
    efs = sorted({p["ef"] for _, _, s in systems for p in s["sweep"][mode]})
    headers = ["ef"] + [f"{SYSTEMS[name].label}" for _, name, _ in systems]
    rows = []
    for ef in efs:
        row = [str(ef)]
        for _, _, s in systems:
            point = next((p for p in s["sweep"][mode] if p["ef"] == ef), None)
            row.append(DASH if point is None else f"{point['recall']:.4f} @ {point['qps']['median']:,.0f}")
        rows.append(row)
    return md_table(headers, rows)


def environment_section(record: dict) -> list[str]:
    """Machine, versions (the PyPI omendb's from its own environment), command and wall time."""
    env = record["env"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v != "unknown")
    pypi = record["systems"].get("omendb-pypi", {})
    if pypi.get("version"):
        versions += f", omendb (PyPI, earlier engine) {pypi['version']}"
    return [f"- **Machine**: {env['cpu']}, {env['cores']} cores usable, {env['memory_bytes'] / 2**30:.1f} GiB memory; "
            f"OmenDB SIMD kernels: {env['simd_isa']}; load average {env['loadavg'][0]:.2f} at start, "
            f"{env['loadavg_end'][0]:.2f} at the end (a shared machine: figures are noisy, ratios measured side "
            f"by side are the ones to trust)",
            f"- **Versions**: {versions}",
            f"- **Command**: `{record['command']}` (profile `{record['profile']['name']}`), started {record['started']}, "
            f"wall time {record['wall_s'] / 60:.1f} min"]


def method_section(record: dict) -> list[str]:
    """How every figure is measured, with this run's parameters."""
    p, prof = record["params"], record["profile"]
    return [
        f"- Every graph index: M={p['M']}, ef_construction={p['ef_construction']}, k={p['k']}; ef sweep "
        f"{', '.join(map(str, prof['ef_library']))} (libraries) and {', '.join(map(str, prof['ef_database']))} "
        f"(databases). Build and batch search on {p['threads']} threads; single queries on 1 thread.",
        f"- {prof['repeats']} repetition(s) per data set and tier; each starts a fresh worker process per system, "
        "builds (one at a time, the order rotating), then times the systems in alternating rounds "
        f"({prof['rounds']} per ef; the order rotates every round), then saves, then opens in a fresh process. "
        "Figures are median [min–max] over repetitions (QPS: per repetition the median over rounds). "
        "`OmenDB/peer QPS@0.95` divides the two QPS at recall 0.95; `OmenDB/peer paired` is, at ef=64, the "
        "median over repetitions of the median over rounds of OmenDB's QPS / the peer's QPS measured back to "
        "back in the same round (the figure least moved by outside load; 1.00x for OmenDB itself). Ratios "
        "above 1.00x: OmenDB is faster.",
        "- **QPS at recall 0.95 and 0.99**: interpolated in log-QPS between the two sweep points that bracket the "
        "target; `*` marks a system already above the target at its cheapest ef (the value is its QPS there, at "
        "higher recall); — where the sweep never reaches it.",
        "- **Recall@10** counts ties: a returned id is right when it is a true neighbour or exactly as far as "
        "the 10th. Libraries use all held-out queries; databases the first "
        f"{prof['db_queries']}; filtered search the first {prof['filtered_queries']}.",
        "- **Latency**: p50 / p99 of single queries (each call timed) at the smallest ef reaching recall 0.95.",
        "- **Memory**: in the worker, peak resident size (VmHWM, reset before the build) minus the resident size "
        "just before the build, per vector, minus 4 x dim bytes of raw floats; `after build` is the resident size "
        "(VmRSS) once the build returned, same baseline; `after open` is VmRSS in the fresh process that opened the "
        "saved index, after the first query and one pass over all queries at the largest ef of the sweep, minus "
        "its VmRSS before open(), per vector, minus the raw floats (negative: less than the raw floats). "
        "**Disk**: the saved folder's "
        "bytes per vector minus the raw floats. **Open**: a fresh process opens the saved index or database and "
        "answers one query (imports and interpreter start are not counted; page cache warm).",
        f"- **Databases**: records inserted in batches of {p['insert_batch']:,} with a metadata field `bucket` "
        f"(0..99, shuffled); `insert` is vectors/s of the insert calls, each system with its "
        f"own durability (see Systems), `insert+index` adds what must follow before searches use an index: "
        f"LanceDB's index build, the PyPI omendb's flush(). Filtered search: `bucket < 10` (10%) and `bucket < 1` (1%) at "
        f"ef={p['filter_ef']}, against exact search over the matching rows.",
    ]


def render(record: dict, out: Path) -> None:
    """Writes the report for ``record`` to ``out`` and its figures to ``out``'s stem folder (no
    figures, and a line saying so, when matplotlib is not installed)."""
    record["summary"] = summary = summarize(record["raw"])  # from the raw figures, by this version's rules
    try:
        from .plots import render_all
    except ImportError:
        figures = None
    else:
        figures = render_all(summary, out.parent / out.stem)
    lines = ["# Benchmarks", "",
             "Generated by the benchmark suite (`bench/suite/`, see bench/README.md) from one run; do not edit by "
             "hand: `make bench` regenerates this file and its figures. Rules: shared/BENCHMARKS.md.", ""]
    lines += ["## Headline: OmenDB / peer", "",
              "QPS at recall 0.95 (single queries) and build (libraries) or insert (databases) "
              "throughput; above 1.00x OmenDB is ahead.", ""] + headline(summary) + [""]
    lines += ["## Where OmenDB is behind", "",
              f"Every figure where a peer is ahead by more than {1 / BEHIND_SPEED - 1:.0%} (speed) or "
              f"{BEHIND_SIZE - 1:.0%} (memory, disk, open time; these only on sets of at least "
              f"{SIZE_MIN_N:,} vectors, where fixed overheads no longer dominate), worst first per data set.", ""]
    lines += [f"- {text}" for text in behind(record)] or ["- nowhere in this run"]
    lines += ["", "## Machine, versions, command", ""] + environment_section(record)
    lines += ["", "## Method", ""] + method_section(record)
    lines += ["", "## Systems", "", md_table(["system", "how it is run", "what a returned insert guarantees"],
                                             [[SYSTEMS[s].label, SYSTEMS[s].how, SYSTEMS[s].durability or DASH]
                                              for s in record["systems"]])]
    lines += ["", "## Caps, skips, failures and notes", ""] + caps_section(record)
    lines += ["", "## Data sets", "", md_table(["name", "vectors", "dim", "metric", "queries", "what"],
                                               [[n, f"{d['n']:,}", d["dim"], d["metric"], d["queries"], d["description"]]
                                                for n, d in record["datasets"].items()])]
    for name, tiers in summary.items():
        lines += ["", f"## {name}", ""]
        for tier, systems in tiers.items():
            if systems:
                headers, rows = tier_table(tier, systems, ranges=True)
                lines += ["Libraries:" if tier == config.LIBRARY else "Databases:", "", md_table(headers, rows), ""]
        lines += ["Recall @ QPS along the sweep, single queries:", "", sweep_table(tiers, "single"), ""]
        lines += [f"![{name}]({out.stem}/recall-qps-{name}.png)", ""] if figures else []
    lines += ["## Throughput, memory and disk", ""]
    if figures is None:
        lines.append("Figures not rendered: matplotlib is not installed (pip install -r requirements-bench.txt).")
    else:
        lines += [f"![{caption}]({out.stem}/{file})" for file, caption in figures if not file.startswith("recall-qps")]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def caps_section(record: dict) -> list[str]:
    """Every system or data set that did not run everywhere, and why; never silent."""
    lines = [f"- {SYSTEMS[c['system']].label} not run on {c['dataset']}: {c['reason']}" for c in record["caps"]]
    lines += [f"- {SYSTEMS[s].label} not run at all: {why}" for s, why in record["skipped_systems"].items()]
    lines += [f"- data set {d} skipped: {why}" for d, why in record["skipped_datasets"].items()]
    prof = record["profile"]
    for name, tier, count, why in prof.get("fewer_repeats", ()):
        if name in record["datasets"] and count < prof["repeats"]:
            lines.append(f"- {name}, {tier} tier: {count} repetition(s) instead of {prof['repeats']}: {why}")
    for system, (count, why) in config.SYSTEM_REPEATS.items():
        if system in record["systems"] and count < prof["repeats"]:
            lines.append(f"- {SYSTEMS[system].label}: {count} repetition(s) instead of {prof['repeats']}: {why}")
    for name, d in record["datasets"].items():
        if d["n"] > prof["build1_max_n"]:
            lines.append(f"- {name}: the 1-thread build is measured on the first {prof['build1_max_n']:,} vectors "
                         f"of the set, not all {d['n']:,} (time budget)")
    described = set()
    for dataset, tiers in record["summary"].items():
        for systems in tiers.values():
            for system, s in systems.items():
                if "error" in s:
                    last = s["error"].strip().splitlines()[-1]
                    lines.append(f"- {SYSTEMS[system].label} failed on {dataset}: `{last[:300]}`")
                if s.get("describe") and system not in described:
                    described.add(system)
                    lines.append(f"- {SYSTEMS[system].label} reports after its build on {dataset}: "
                                 f"`{json.dumps(s['describe'])}`")
    return lines or ["- none"]


def main(argv=None) -> int:
    """``python bench/run.py report RESULTS.json [--out MD]``."""
    p = argparse.ArgumentParser(prog="python bench/run.py report", description=__doc__)
    p.add_argument("results", type=Path)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md")
    args = p.parse_args(argv)
    render(json.loads(args.results.read_text()), args.out)
    print(f"wrote {args.out} and {args.out.parent / args.out.stem}/")
    return 0
