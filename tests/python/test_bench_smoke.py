"""Smoke test of the benchmark suite (bench/run.py --smoke): a tiny generated set through every
system installed here, then checks of the results JSON, the rendered report and bench/compare.py,
so the suite cannot rot. About 10 s on 2 cores (about 25 s with the peers of requirements-bench.txt).

Runs OmenDB (in memory, with sq8 codes and on disk), hnswlib, USearch and FAISS (float and 8-bit), all
in requirements-dev.txt, and one variant each of zvec, VSAG, ScaNN and SVS where requirements-bench.txt
installed them (a peer missing from an environment, or one that cannot run on its CPU, is a skip that
names it). The databases (Chroma, LanceDB, Qdrant, the PyPI omendb) need requirements-bench.txt and
run in `make bench-quick`.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "bench" / "run.py"
COMPARE = REPO / "bench" / "compare.py"
PEERS = {"hnswlib": "hnswlib", "faiss": "faiss", "faiss-sq8": "faiss", "usearch": "usearch", "usearch-i8": "usearch",
         "zvec-int8-refine": "zvec", "vsag-sq8": "pyvsag", "scann": "scann", "svs-lvq": "svs"}  # system: import
RECALL_FLOOR = 0.9  # recall@10 at the smoke sweep's largest ef (32)
LOW_RECALL = {"usearch-i8": 0.7,  # stores unit-length vectors, so it ranks by angle on this L2 set (about 0.8)
              "scann": 0.7}  # ef=32 searches an eighth of its 55 leaves (about 0.88)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    """Runs the smoke profile once; returns the record, the paths and the console output."""
    root = tmp_path_factory.mktemp("bench")
    out, report = root / "results.json", root / "report" / "benchmarks.md"
    done = subprocess.run([sys.executable, str(RUN), "--smoke", "--no-progress", "--no-setup", "--out", str(out),
                           "--report", str(report), "--cache", str(root / "cache")],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    return {"record": json.loads(out.read_text()), "out": out, "report": report, "stdout": done.stdout, "root": root}


def systems_run(record: dict) -> dict:
    """{system: summary} over the one smoke data set, both tiers."""
    (tiers,) = record["summary"].values()
    return {name: s for systems in tiers.values() for name, s in systems.items()}


def test_results_are_well_formed(smoke):
    record = smoke["record"]
    for key in ("env", "params", "profile", "systems", "caps", "datasets", "raw", "summary", "wall_s", "command"):
        assert key in record
    assert record["params"]["M"] == 16 and record["params"]["ef_construction"] == 100
    assert record["env"]["cores"] >= 1 and record["env"]["versions"]["omendb"]
    ran = systems_run(record)
    assert {"omendb", "omendb-sq8", "omendb-disk"} <= set(ran)
    floats = 4 * record["datasets"]["clustered-3k-32"]["dim"]
    for name, s in ran.items():
        assert "error" not in s, f"{name}: {s.get('error')}"
        assert s["build_vps"]["median"] > 0
        assert (s["insert_vps"] if name == "omendb-disk" else s["build_1t_vps"])["median"] > 0
        assert s["disk_per_vector"]["median"] + floats > 0 and s["open_s"]["median"] > 0
        assert s["mem_open_per_vector"] is not None
        for mode in ("single", "batch"):
            assert s["sweep"][mode], f"{name}: empty {mode} sweep"
            for point in s["sweep"][mode]:
                assert 0.0 <= point["recall"] <= 1.0 and point["qps"]["median"] > 0
        floor = LOW_RECALL.get(name, RECALL_FLOOR)
        assert s["sweep"]["single"][-1]["recall"] >= floor, f"{name}: recall {s['sweep']['single'][-1]['recall']}"
    filtered = ran["omendb-disk"]["filtered"]
    assert set(filtered) == {"10%", "1%"} and all(0.0 <= f["recall"] <= 1.0 for f in filtered.values())
    assert "vs_omendb" in ran["hnswlib"]


@pytest.mark.parametrize("system", sorted(PEERS))
def test_peer_ran(smoke, system):
    skipped = smoke["record"]["skipped_systems"]
    if importlib.util.find_spec(PEERS[system]) is None:
        assert system in skipped
    if system in skipped:
        pytest.skip(f"{system} not run: {skipped[system]}")
    s = systems_run(smoke["record"])[system]
    assert "error" not in s and s["sweep"]["single"] and s["vs_omendb"]["build_vps"] > 0


def test_summary_and_report(smoke):
    assert "== Summary" in smoke["stdout"] and "OmenDB" in smoke["stdout"]
    text = smoke["report"].read_text()
    for heading in ("# Benchmarks", "## Where OmenDB is behind", "## Machine, versions, command", "## Method",
                    "## Caps, skips, failures and notes", "| OmenDB |", "| OmenDB sq8 |", "| OmenDB (disk) |",
                    "QPS@0.99 1 thread", "after open"):
        assert heading in text
    if importlib.util.find_spec("matplotlib") is not None:
        figures = smoke["report"].parent / "benchmarks"
        assert (figures / "build-throughput.png").stat().st_size > 1000
        assert (figures / "recall-qps-clustered-3k-32.png").stat().st_size > 1000
        assert "](benchmarks/build-throughput.png)" in text


def test_compare(smoke):
    newer = copy.deepcopy(smoke["record"])
    newer["summary"]["clustered-3k-32"]["library"]["omendb"]["build_vps"]["median"] *= 2
    new_path = smoke["root"] / "newer.json"
    new_path.write_text(json.dumps(newer))
    done = subprocess.run([sys.executable, str(COMPARE), str(smoke["out"]), str(new_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(row for row in done.stdout.splitlines() if "/ omendb " in row and "build vec/s (2 thr)" in row)
    assert "2.00x" in line and line.rstrip().endswith("+")
