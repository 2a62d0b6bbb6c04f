"""Crash test: a writer process is killed with SIGKILL at seeded random moments; the database,
reopened, must hold exactly what was acknowledged.

Each trial starts tests/python/crash_workload.py (the writer) on a fresh folder and kills it: at
a random time after start, during start-up, inside or just after a random operation, inside an
explicit checkpoint or a delete. Some trials start a second or third writer on the same folder
(which replays the log, and is sometimes killed in the middle of that) before the check. Then
the test reopens the database and requires:

- its contents equal the model after the last acknowledged operation, or after the one in
  flight when the kill came (never anything in between: a partial batch is a failure), record
  by record, bit for bit (vector bytes and metadata values and types);
- len() and a metadata count agree with the model;
- a search for a sample of stored vectors finds each at distance 0, and recall@10 at ef=64
  against exact search is at least 0.95;
- the database takes writes after the reopen, and they survive a close and another reopen.

Most trials use sync="full"; every fifth uses "normal" or "off" (a crash of the process loses
nothing acknowledged in those modes either). OMENDB_CRASH_TRIALS sets the number of trials
(default 20; `make crash-test` runs 300), OMENDB_CRASH_SEED the first seed. The last test prints
how the kills landed.
"""

from __future__ import annotations

import collections
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

import crash_workload as workload
import omendb

TRIALS = int(os.environ.get("OMENDB_CRASH_TRIALS", "20"))
BASE_SEED = int(os.environ.get("OMENDB_CRASH_SEED", "1000"))
OPS = workload.DEFAULT_OPS
WRITER = Path(__file__).resolve().with_name("crash_workload.py")
WRITER_TIMEOUT_S = 120  # a writer that neither reaches its kill point nor ends is hung
SEARCH_SAMPLE = 30
RECALL_QUERIES = 20
RECALL_FLOOR = 0.95

SUMMARY: list = []  # one dict per finished trial, printed by the last test


@dataclass
class Kill:
    """When to kill one writer. kind: "time" (``delay`` seconds after start), "startup"
    (``delay`` after it prints "opening"), "op" (``delay`` after "begin i" with i >= ``after``),
    "checkpoint" / "delete" (``delay`` after the first such operation with i >= ``after``)."""

    kind: str
    delay: float
    after: int = 0

    def is_trigger(self, line: str) -> bool:
        if self.kind == "startup":
            return line == "opening"
        if self.kind in ("op", "checkpoint", "delete") and line.startswith("begin "):
            _, index, kind = line.split()
            return int(index) >= self.after and (self.kind == "op" or kind == self.kind)
        return False

    def __str__(self) -> str:
        where = {"time": "after start", "startup": "after 'opening'", "op": f"after 'begin {self.after}'"}
        return f"{self.kind} +{self.delay * 1000:.1f} ms {where.get(self.kind, f'in the first {self.kind} from op {self.after}')}"


@dataclass
class Trial:
    number: int
    seed: int
    sync: str
    kills: list = field(default_factory=list)


def plan_trial(number: int) -> Trial:
    """The seeded plan of trial ``number``: sync mode and one kill per writer round."""
    seed = BASE_SEED + number
    rng = random.Random(seed)
    sync = "full"
    if number % 5 == 4:
        sync = "normal" if (number // 5) % 2 == 0 else "off"
    rounds = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
    trial = Trial(number, seed, sync)
    for round_ in range(rounds):
        roll = rng.random()
        if round_ > 0 and roll < 0.6:
            kill = Kill("startup", rng.uniform(0, 0.012))  # mostly inside open(): log replay
        elif roll < 0.1:
            kill = Kill("time", rng.uniform(0, 0.6))  # interpreter start-up to mid-workload
        elif roll < 0.18:
            kill = Kill("startup", rng.uniform(0, 0.012))
        elif roll < 0.32:
            kill = Kill("checkpoint", rng.uniform(0, 0.008), rng.randrange(1, OPS))
        elif roll < 0.42:
            kill = Kill("delete", rng.uniform(0, 0.004), rng.randrange(1, OPS))
        else:
            kill = Kill("op", rng.uniform(0, 0.012), rng.randrange(0, OPS))
        trial.kills.append(kill)
    return trial


def run_writer(path: Path, trial: Trial, kill: Kill, resume: Optional[list], log_dir: Path) -> dict:
    """Starts a writer, kills it with SIGKILL as ``kill`` says; returns its stdout lines, whether
    it was killed, its exit status and its stderr."""
    command = [sys.executable, str(WRITER), str(path), str(trial.seed), "--sync", trial.sync, "--ops", str(OPS)]
    if resume:
        command += ["--resume", ",".join(map(str, resume))]
    stderr_path = log_dir / f"writer-{time.monotonic_ns()}.stderr"
    lines: list = []
    trigger = threading.Event()
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1)

        def read() -> None:
            for raw in process.stdout:
                line = raw.rstrip("\n")
                lines.append(line)
                if kill.is_trigger(line):
                    trigger.set()
            trigger.set()  # end of output: the writer ended by itself

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        if kill.kind == "time":
            trigger.wait(kill.delay)
        elif not trigger.wait(WRITER_TIMEOUT_S):
            process.kill()
            raise AssertionError(f"writer hung: no trigger line within {WRITER_TIMEOUT_S} s; last lines {lines[-5:]}")
        if kill.delay and kill.kind != "time":
            time.sleep(kill.delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        status = process.wait(WRITER_TIMEOUT_S)
        # The writer may end by itself between poll() and the kill: only its status tells.
        killed = status == -signal.SIGKILL
        reader.join(WRITER_TIMEOUT_S)
    return {"lines": list(lines), "killed": killed, "status": status, "stderr": stderr_path.read_text()}


def states_after(run: dict, previous: list) -> tuple[list, str]:
    """The states (operation counts) the database may hold after this writer run, and where the
    kill landed: the state confirmed by "opened"/"ack", plus the next one if an operation was in
    flight. Raises on an error line or an unexpected exit."""
    lines = run["lines"]
    errors = [line for line in lines if line.startswith("error")]
    assert not errors, f"the writer found a problem: {errors[0]}\nstderr:\n{run['stderr']}"
    if not run["killed"]:
        assert run["status"] == 0 and lines and lines[-1] == "done", (
            f"the writer exited by itself with status {run['status']}; last lines {lines[-5:]}\nstderr:\n{run['stderr']}"
        )
        return [OPS], "after the end"
    assert run["status"] == -signal.SIGKILL, f"writer status {run['status']}\nstderr:\n{run['stderr']}"
    if "opening" not in lines:
        return previous, "in interpreter start-up"
    opened = [line for line in lines if line.startswith("opened ")]
    if not opened:
        return previous, "in open (replay)" if previous != [0] else "in open (create)"
    confirmed = int(opened[0].split()[1])
    in_flight = None
    for line in lines:
        parts = line.split()
        if parts[0] == "begin":
            assert int(parts[1]) == confirmed, f"out of order: {line} after state {confirmed}"
            in_flight = parts[2]
        elif parts[0] == "ack":
            assert int(parts[1]) == confirmed, f"out of order: {line} after state {confirmed}"
            confirmed += 1
            in_flight = None
    if in_flight is None:
        return [confirmed], "between operations"
    return [confirmed, confirmed + 1], f"inside {in_flight}"


# --- what the kill left on disk


def manifest_names(path: Path) -> Optional[tuple]:
    """(log file, {collection: [snapshot files]}) named by <path>/MANIFEST (docs/format.md), or
    None when there is none."""
    try:
        data = (path / "MANIFEST").read_bytes()
    except FileNotFoundError:
        return None
    at = 32  # header (16), checkpoint lsn, next file number

    def name() -> str:
        nonlocal at
        (length,) = struct.unpack_from("<I", data, at)
        at += 4 + length
        return data[at - length : at].decode()

    log = name()
    (count,) = struct.unpack_from("<I", data, at)
    at += 4
    snapshots = {}
    for _ in range(count):
        collection = name()
        at += 4 * 4 + 8  # dim, metric, m, ef_construction, seed
        (files,) = struct.unpack_from("<I", data, at)
        at += 4
        names = []
        for _ in range(files):
            names.append(name())
            at += 8 + 4  # size, crc
        snapshots[collection] = names
    return log, snapshots


def leftovers(path: Path) -> list:
    """Files the manifest does not name: a checkpoint (or the cleanup after one) was cut short."""
    if not path.exists():
        return []
    names = manifest_names(path)
    if names is None:
        return sorted(p.name for p in path.iterdir() if p.name != "LOCK")
    log, snapshots = names
    extra = [p.name for p in path.iterdir() if p.name.startswith("wal-") and p.name != log]
    extra += ["MANIFEST.tmp"] if (path / "MANIFEST.tmp").exists() else []
    collections_dir = path / "collections"
    if collections_dir.is_dir():
        for folder in collections_dir.iterdir():
            keep = set(snapshots.get(folder.name, []))
            extra += [f"{folder.name}/{p.name}" for p in folder.iterdir() if p.name not in keep]
    return sorted(extra)


# --- the checks after reopening


def check_search(col, records: dict, rng: np.random.Generator) -> float:
    """Every sampled stored vector is found at distance 0; returns recall@10 at ef=64 against
    exact search on random queries."""
    ids = sorted(records)
    for index in rng.choice(len(ids), size=min(SEARCH_SAMPLE, len(ids)), replace=False):
        record_id = ids[index]
        vector = np.frombuffer(records[record_id][0], dtype=np.float32)
        hits = col.search(vector, k=10, ef=64)
        if not any(hit.id == record_id and hit.distance == 0 for hit in hits):
            exact = col.search(vector, k=1, exact=True)
            wide = col.search(vector, k=10, ef=500)
            raise AssertionError(
                f"search(ef=64) for the stored vector of {record_id!r} did not find it at distance 0 "
                f"(best hits {[(hit.id, hit.distance) for hit in hits[:3]]}); exact search finds "
                f"{[(hit.id, hit.distance) for hit in exact]}; ef=500 finds it: "
                f"{any(hit.id == record_id for hit in wide)}"
            )
    if len(ids) <= 10:
        return 1.0
    found = total = 0
    for query in rng.standard_normal((RECALL_QUERIES, workload.DIM)).astype(np.float32):
        exact = {hit.id for hit in col.search(query, k=10, exact=True)}
        approximate = {hit.id for hit in col.search(query, k=10, ef=64)}
        found += len(exact & approximate)
        total += len(exact)
    return found / total


def check_reopened(path: Path, trial: Trial, candidates: list) -> dict:
    """Reopens the database and runs every check; returns what the summary reports."""
    db = omendb.open(path)
    try:
        state, differences = workload.match_state(db, trial.seed, candidates)
        assert state is not None, (
            f"the reopened database holds none of the acceptable states {candidates} "
            f"(a partial batch or lost acknowledged writes): "
            + "; ".join(f"vs state {k}: {diff}" for k, diff in differences.items())
        )
        records = workload.states_at(trial.seed, [state])["states"][state]
        recall = None
        if records is None:
            col = db.collection(workload.COLLECTION, dim=workload.DIM)
        else:
            col = db.collection(workload.COLLECTION)
            flagged = sum(1 for _, meta in records.values() if meta.get("flag") is True)
            assert col.count({"flag": True}) == flagged, "a metadata count disagrees with the records"
            if records:
                recall = check_search(col, records, np.random.default_rng(trial.seed))
                assert recall >= RECALL_FLOOR, f"recall@10 at ef=64 is {recall:.3f} < {RECALL_FLOOR}"
        # Writable after the reopen, and the new writes are durable.
        size = len(col)
        new_ids = [f"after_{i}" for i in range(5)]
        vectors = np.random.default_rng(trial.seed).standard_normal((5, workload.DIM)).astype(np.float32)
        col.add(new_ids, vectors, [{"after": i} for i in range(5)])
        col.upsert(new_ids[:1], vectors[1:2], [{"after": "replaced"}])
        assert col.delete(new_ids[4:]) == 1
        assert len(col) == size + 4
    finally:
        db.close()
    with omendb.open(path) as db:
        col = db.collection(workload.COLLECTION)
        assert len(col) == size + 4
        first, last = col.get([new_ids[0], new_ids[4]])
        assert last is None and first.metadata == {"after": "replaced"}
        assert first.vector.tobytes() == vectors[1].tobytes()
    return {"state": state, "recall": recall, "records": 0 if records is None else len(records)}


def run_trial(trial: Trial, folder: Path) -> dict:
    path = folder / "db"
    candidates = [0]
    landings, left = [], []
    for number, kill in enumerate(trial.kills):
        run = run_writer(path, trial, kill, None if number == 0 else candidates, folder)
        candidates, where = states_after(run, candidates)
        left = leftovers(path)
        landings.append(where)
    result = check_reopened(path, trial, candidates)
    result.update(landing=landings[-1], landings=landings, candidates=candidates, leftovers=left)
    return result


@pytest.mark.parametrize("number", range(TRIALS))
def test_crash_trial(number, tmp_path):
    trial = plan_trial(number)
    started = time.perf_counter()
    try:
        result = run_trial(trial, tmp_path)
    except AssertionError as error:
        raise AssertionError(
            f"trial {number} (seed {trial.seed}, sync={trial.sync}, kills: {'; '.join(map(str, trial.kills))}): {error}"
        ) from None
    result.update(trial=number, sync=trial.sync, rounds=len(trial.kills), seconds=time.perf_counter() - started)
    SUMMARY.append(result)
    shutil.rmtree(tmp_path / "db", ignore_errors=True)  # 300 trials would keep over a gigabyte


def test_crash_summary(capsys):
    """Prints how the kills landed (runs after the trials)."""
    if not SUMMARY:
        pytest.skip("no crash trial ran")
    landed = collections.Counter()
    for result in SUMMARY:
        where = result["landing"]
        landed["inside an operation" if where.startswith("inside") else
               "in start-up or open" if where.startswith("in ") else
               "no kill: the writer had finished" if where == "after the end" else "between operations"] += 1
    kinds = collections.Counter(result["landing"] for result in SUMMARY)
    in_checkpoint = sum(1 for result in SUMMARY if result["leftovers"])
    in_flight = [r for r in SUMMARY if len(r["candidates"]) == 2]
    applied = sum(1 for r in in_flight if r["state"] == r["candidates"][1])
    syncs = collections.Counter(result["sync"] for result in SUMMARY)
    rounds = collections.Counter(result["rounds"] for result in SUMMARY)
    replay_kills = sum(1 for r in SUMMARY for where in r["landings"][1:] if where.startswith("in open"))
    seconds = sum(result["seconds"] for result in SUMMARY)
    recalls = [r["recall"] for r in SUMMARY if r["recall"] is not None]
    lines = [
        "",
        f"crash test: {len(SUMMARY)} trials passed in {seconds:.1f} s (sync: {dict(syncs)}; writer rounds: {dict(sorted(rounds.items()))})",
        f"  last kill landed: {dict(landed)}",
        f"  by place: {dict(sorted(kinds.items()))}",
        f"  with checkpoint leftovers on disk (killed inside a checkpoint or its cleanup): {in_checkpoint}",
        f"  an operation in flight at the kill: {len(in_flight)} trials; its batch was found applied in {applied}, "
        f"absent in {len(in_flight) - applied} (never partly)",
        f"  kills during a later writer's open (log replay): {replay_kills}",
        f"  records at the check: median {int(np.median([r['records'] for r in SUMMARY]))}, "
        f"max {max(r['records'] for r in SUMMARY)}; min recall@10 (ef=64) {min(recalls) if recalls else float('nan'):.3f}",
    ]
    with capsys.disabled():
        print("\n".join(lines))
