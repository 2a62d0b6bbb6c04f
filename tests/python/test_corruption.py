"""Corruption test: damaged database files give CorruptionError or a correct database, never a
crash, a hang, another exception or wrong contents.

A small database is built: collection "a" (2,100 records with metadata, so that searches walk
the graph rather than scan) written by a checkpoint, then a log of seven records (writes to "a",
collection "b" created and written). The folder is copied while the writer is open, so the copy
holds snapshot files and log records. Then, for every file of the copy, damaged copies are made:
bytes flipped (every byte of a file under 4 KiB; else a seeded sample of positions plus the
first and last 64 bytes), the file cut at several lengths (in the log: at and around every record
boundary), the log extended with zeros or garbage, a file removed. Each damaged copy is opened in
a subprocess (many per subprocess; a crash or a hang of one is caught and named) and must give:

- CorruptionError, or
- a clean open whose contents equal the state after the first j log records, where the damage
  lies in log record j or later, and only for damage in the log's tail: a flip in the last
  record (a torn tail: it was never acknowledged) or a cut/extended log (exactly the records
  the cut leaves, which is also what a crash mid-append leaves: these must open). A clean open
  must also find a sample of stored vectors by search at distance 0, and (every cut or extended
  log, one in 8 other cases) hold the same contents after a close (a checkpoint) and a reopen.

Damage anywhere else (manifest, snapshot files, the log's header or any record but the last)
must give CorruptionError; a clean open there passes only if the contents are entirely intact
(the damage did not matter), and the summary counts such cases. The copies are opened with
sync="full", as the database was written; a second test opens log damage with sync="normal",
which must judge it the same way (the opener's sync mode says nothing about how the log was
written, so damage before the last record is CorruptionError in every mode).
OMENDB_CORRUPTION_SAMPLE scales the sampled flip positions per file (default 200).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import queue
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from crash_workload import canonical

SAMPLE = int(os.environ.get("OMENDB_CORRUPTION_SAMPLE", "200"))
EDGE = 64  # the first and last bytes of every file are always flipped
SMALL_FILE = 4096  # files under this size get every byte flipped
WORKERS = 2
CASE_TIMEOUT_S = 30  # no case may take longer: a hang
SEED = 7
LOG_HEADER = 16
RECORD_HEADER = 24


# --- the database and its model


def _vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    return rng.standard_normal((n, dim)).astype(np.float32)


def _metadata(rng: np.random.Generator, n: int, tag: str) -> list:
    out = []
    for i in range(n):
        meta = {"i": int(rng.integers(-10**9, 10**9)), "x": float(rng.standard_normal()), "tag": tag,
                "ok": bool(i % 2), "none": None, "tags": [tag, str(i)]}
        if i % 7 == 0:
            meta = {}
        out.append(meta)
    return out


def build(path: Path, copy_to: Path) -> list:
    """Builds the database at ``path``, copies it to ``copy_to`` while the writer is open, and
    returns the model states: states[j] = {collection: {id: (vector bytes, metadata)}} after the
    first j log records of the copy."""
    import omendb

    rng = np.random.default_rng(SEED)
    model: dict = {}

    def put(name, ids, vectors, metadata):
        for i, record_id in enumerate(ids):
            model[name][record_id] = (vectors[i].tobytes(), {} if metadata is None else metadata[i])

    states = []
    db = omendb.open(path)
    a = db.collection("a", dim=8, metric="l2", m=8, ef_construction=64)
    model["a"] = {}
    for start in range(0, 2100, 300):
        ids = [f"a{i}" for i in range(start, start + 300)]
        vectors, metadata = _vectors(rng, 300, 8), _metadata(rng, 300, "base")
        a.add(ids, vectors, metadata)
        put("a", ids, vectors, metadata)
    db.checkpoint()
    snapshot = lambda: {name: dict(records) for name, records in model.items()}  # noqa: E731
    states.append(snapshot())
    # Seven log records.
    ids = [f"a{i}" for i in range(0, 400, 20)]
    vectors, metadata = _vectors(rng, len(ids), 8), _metadata(rng, len(ids), "upserted")
    a.upsert(ids, vectors, metadata)
    put("a", ids, vectors, metadata)
    states.append(snapshot())
    dead = [f"a{i}" for i in range(1, 100, 10)]
    assert a.delete(dead) == len(dead)
    for record_id in dead:
        del model["a"][record_id]
    states.append(snapshot())
    ids = [f"n{i}" for i in range(40)]
    vectors, metadata = _vectors(rng, 40, 8), _metadata(rng, 40, "new")
    a.add(ids, vectors, metadata)
    put("a", ids, vectors, metadata)
    states.append(snapshot())
    b = db.collection("b", dim=4, metric="ip")
    model["b"] = {}
    states.append(snapshot())
    ids = [f"b{i}" for i in range(30)]
    vectors = _vectors(rng, 30, 4)
    b.add(ids, vectors)
    put("b", ids, vectors, None)
    states.append(snapshot())
    ids = [f"m{i}" for i in range(25)]
    vectors, metadata = _vectors(rng, 25, 8), _metadata(rng, 25, "more")
    a.add(ids, vectors, metadata)
    put("a", ids, vectors, metadata)
    states.append(snapshot())
    assert b.delete(["b3", "b4", "b5", "nope"]) == 3
    for record_id in ("b3", "b4", "b5"):
        del model["b"][record_id]
    states.append(snapshot())
    shutil.copytree(path, copy_to)  # the writer is open: snapshot files and log records
    db.close()
    return states


def digest_of_model(state: dict) -> str:
    content = {name: sorted((record_id, vector, canonical(meta)) for record_id, (vector, meta) in records.items())
               for name, records in state.items()}
    return hashlib.sha256(repr(sorted(content.items())).encode()).hexdigest()


def digest_of_database(db, universe: dict) -> tuple:
    """(digest, record count) of what ``db`` holds, in the form of digest_of_model."""
    content, count = {}, 0
    for name in db.collections():
        col = db.collection(name)
        ids = sorted(universe.get(name, []))
        records = [r for r in col.get(ids) if r is not None] if ids else []
        if len(records) != len(col):
            raise AssertionError(f"collection {name}: len() is {len(col)} but {len(records)} known ids are present")
        content[name] = sorted((r.id, r.vector.tobytes(), canonical(r.metadata)) for r in records)
        count += len(records)
    return hashlib.sha256(repr(sorted(content.items())).encode()).hexdigest(), count


def log_records(path: Path) -> list:
    """(start, end) byte offsets of each record of a write-ahead log (docs/format.md)."""
    data = path.read_bytes()
    assert data[:8] == b"OMENDBWL", f"{path}: not a log"
    records, at = [], LOG_HEADER
    while at < len(data):
        (length,) = struct.unpack_from("<I", data, at + 16)
        records.append((at, at + RECORD_HEADER + length))
        at += RECORD_HEADER + length
    assert at == len(data), f"{path}: the last record runs past the end"
    return records


# --- the damaged copies


def make_cases(pristine: Path, states: list, sync: str = "full") -> list:
    """Every damage to apply, with the outcomes it allows: "corruption" (CorruptionError) and/or
    the states a clean open may hold (indices into ``states``).

    sync="full" (how the database was written): every file. sync="normal": the log only, with
    the same verdicts: only damage in the last record may open (as a torn tail)."""
    rng = np.random.default_rng(SEED)
    digests = [digest_of_model(state) for state in states]
    full = len(states) - 1
    files = sorted(p.relative_to(pristine).as_posix() for p in pristine.rglob("*") if p.is_file() and p.name != "LOCK")
    logs = [name for name in files if name.startswith("wal-")]
    assert len(logs) == 1, f"expected one log in the copy, found {logs}"
    records = log_records(pristine / logs[0])
    assert len(records) == full, f"the log holds {len(records)} records, the test wrote {full} batches"
    cases = []

    def add(file, damage, where, allowed_states, corruption_allowed=True, strict=False):
        cases.append({
            "id": len(cases), "file": file, "damage": damage, "where": where,
            "allowed": {str(j): digests[j] for j in allowed_states},
            "intact": digests[full], "corruption_allowed": corruption_allowed, "strict": strict, "sync": sync,
            # A clean open is closed (a checkpoint) and reopened to see that the recovered state
            # stays: for every cut or extended log, for one in 8 of the other cases (it is slow).
            "reopen": strict or len(cases) % 8 == 0,
        })

    for file in files:
        size = (pristine / file).stat().st_size
        is_log = file == logs[0]
        if sync != "full" and not is_log:
            continue  # the sync mode changes nothing but the replay of a damaged log
        if sync != "full":  # each field of each record header, and some payload bytes
            positions = sorted(set(range(LOG_HEADER)) | {p for s, e in records
                                                         for p in (s, s + 4, s + 8, s + 16, s + 20, s + 24, (s + e) // 2, e - 1)})
        elif size < SMALL_FILE:
            positions = list(range(size))
        else:
            middle = rng.choice(np.arange(EDGE, size - EDGE), size=min(SAMPLE, size - 2 * EDGE), replace=False)
            positions = sorted(set(range(EDGE)) | set(range(size - EDGE, size)) | {int(p) for p in middle})
        for position in positions:
            mask = int(rng.integers(1, 256))
            if is_log and position >= records[-1][0]:
                allowed = [full - 1]  # the last record is damaged: a torn tail
            else:
                allowed = []
            where = "log header" if is_log and position < LOG_HEADER else (
                f"log record {next(i for i, (s, e) in enumerate(records) if s <= position < e)}" if is_log else file)
            add(file, {"flip": position, "mask": mask}, where, allowed)
        if sync != "full":
            continue  # cut and extended logs open the same way in every mode
        lengths = {0, 1, 7, 8, 12, 15, 16, 19, 20, 23, 24, 28, 32, size // 3, size // 2, size - 8, size - 4, size - 1}
        if is_log:
            for start, end in records:
                lengths |= {start - 1, start, start + 1, start + 12, start + RECORD_HEADER - 1, start + RECORD_HEADER,
                            end - 1}
        for length in sorted(x for x in lengths if 0 <= x < size):
            if is_log:
                kept = sum(1 for _, end in records if end <= length)
                # A cut log is what a crash mid-append leaves: it must open, holding what is left.
                add(file, {"truncate": length}, f"log cut at {length}", [kept], corruption_allowed=False, strict=True)
            else:
                add(file, {"truncate": length}, f"{file} cut at {length}", [])
        if is_log:
            for extra in ("zeros:100", "zeros:70000", "garbage:30", "garbage:5000"):
                add(file, {"append": extra}, f"log + {extra}", [full], corruption_allowed=False, strict=True)
        else:
            add(file, {"append": "garbage:16"}, f"{file} + 16 bytes", [])
        if file != "MANIFEST":  # without a manifest a folder is a new database (docs/format.md)
            add(file, {"remove": True}, f"{file} removed", [], strict=True)
    return cases


def damage(folder: Path, case: dict) -> None:
    target = folder / case["file"]
    how = case["damage"]
    if "flip" in how:
        with open(target, "r+b") as f:
            f.seek(how["flip"])
            byte = f.read(1)[0]
            f.seek(how["flip"])
            f.write(bytes([byte ^ how["mask"]]))
    elif "truncate" in how:
        os.truncate(target, how["truncate"])
    elif "append" in how:
        kind, count = how["append"].split(":")
        rng = np.random.default_rng(case["id"])
        extra = bytes(int(count)) if kind == "zeros" else rng.integers(0, 256, int(count), dtype=np.uint8).tobytes()
        with open(target, "ab") as f:
            f.write(extra)
    elif "remove" in how:
        target.unlink()


# --- the subprocess that opens them


def listing(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def worker(spec_path: str) -> int:
    """Opens each damaged copy of the cases in ``spec_path``; prints "start <id>" and then one
    JSON line per case."""
    import omendb

    spec = json.loads(Path(spec_path).read_text())
    pristine, folder = Path(spec["pristine"]), Path(spec["scratch"]) / f"work-{os.getpid()}"
    universe = spec["universe"]
    expected_listing = listing(pristine)
    shutil.copytree(pristine, folder)
    for case in spec["cases"]:
        print(f"start {case['id']}", flush=True)
        damage(folder, case)
        result = {"id": case["id"]}
        try:
            db = omendb.open(folder, sync=case["sync"])
        except omendb.CorruptionError as error:
            result.update(outcome="corruption", message=str(error)[:300])
        except BaseException as error:  # noqa: BLE001 - any other exception is the finding
            result.update(outcome="exception", type=type(error).__name__, message=str(error)[:300])
        else:
            try:
                result.update(outcome="open")
                result["digest"], result["records"] = digest_of_database(db, universe)
                result["search_misses"] = search_misses(db)
                db.close()
                if case["reopen"]:
                    with omendb.open(folder, sync=case["sync"]) as again:
                        result["digest_after_reopen"], _ = digest_of_database(again, universe)
            except BaseException as error:  # noqa: BLE001
                result.update(outcome="exception after open", type=type(error).__name__, message=str(error)[:300])
        print(json.dumps(result), flush=True)
        # Back to the pristine copy: the damaged file, or everything if the open wrote anything.
        if (folder / case["file"]).exists() or "remove" in case["damage"]:
            shutil.copyfile(pristine / case["file"], folder / case["file"])
        if result["outcome"] != "corruption" or listing(folder) != expected_listing:
            shutil.rmtree(folder)
            shutil.copytree(pristine, folder)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


def search_misses(db) -> int:
    """How many of a sample of stored vectors a search (ef=64) does not find at distance 0, in
    the l2 collections (under "ip" a vector need not be its own nearest)."""
    misses = 0
    for name in db.collections():
        col = db.collection(name)
        if col.metric != "l2":
            continue
        ids = [r.id for r in col.get(where={}, limit=200)] if len(col) else []
        for record in col.get(ids[::10]):
            hits = col.search(record.vector, k=10, ef=64)
            misses += not any(hit.id == record.id and hit.distance == 0 for hit in hits)
    return misses


def run_cases(cases: list, pristine: Path, scratch: Path, universe: dict) -> tuple[dict, list]:
    """Runs ``cases`` in WORKERS subprocesses; a worker that crashes or hangs is replaced and the
    case it was on is reported. Returns ({id: result}, [problems])."""
    results, problems = {}, []
    pending = collections.deque(cases)
    lock = threading.Lock()

    def run_worker(number: int) -> None:
        while True:
            with lock:
                if not pending:
                    return
                batch = [pending.popleft() for _ in range(min(len(pending), 400))]
            spec = scratch / f"spec-{number}-{batch[0]['id']}.json"
            spec.write_text(json.dumps({"pristine": str(pristine), "scratch": str(scratch), "universe": universe,
                                        "cases": batch}))
            process = subprocess.Popen([sys.executable, __file__, "--worker", str(spec)], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            lines: queue.Queue = queue.Queue()
            threading.Thread(target=lambda: [lines.put(line) for line in process.stdout] + [lines.put(None)],
                             daemon=True).start()
            current, done = None, set()
            while True:
                try:
                    line = lines.get(timeout=CASE_TIMEOUT_S)
                except queue.Empty:
                    process.kill()
                    with lock:
                        problems.append(f"case {current}: no answer within {CASE_TIMEOUT_S} s (hang)")
                    break
                if line is None:
                    break
                if line.startswith("start "):
                    current = int(line.split()[1])
                    continue
                result = json.loads(line)
                with lock:
                    results[result["id"]] = result
                done.add(result["id"])
            status = process.wait()
            stderr = process.stderr.read()
            if status != 0 and current is not None and current not in done:
                with lock:
                    problems.append(f"case {current}: the opening process died with status {status} "
                                    f"(signal {-status if status < 0 else None}); stderr: {stderr[-500:]}")
            elif status != 0:
                with lock:
                    problems.append(f"worker exited with status {status}: {stderr[-500:]}")
            left = [case for case in batch if case["id"] not in done and case["id"] != current]
            with lock:
                pending.extendleft(reversed(left))

    threads = [threading.Thread(target=run_worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, problems


def judge(case: dict, result: dict) -> tuple[str, str | None]:
    """(category for the summary, problem or None)."""
    label = f"case {case['id']} ({case['where']}, {case['damage']})"
    outcome = result["outcome"]
    if outcome == "corruption":
        if not case["corruption_allowed"]:
            return "corruption", f"{label}: CorruptionError ({result['message']}), but this damage is a torn log tail that must open"
        return "corruption", None
    if outcome != "open":
        return outcome, f"{label}: {outcome} {result.get('type')}: {result.get('message')}"
    digest = result["digest"]
    if case["reopen"] and result["digest_after_reopen"] != digest:
        return "open", f"{label}: opened, but the contents changed across close and reopen"
    if result["search_misses"]:
        return "open", f"{label}: opened, but search misses {result['search_misses']} stored vectors"
    for state, expected in case["allowed"].items():
        if digest == expected:
            return f"open: recovered state {state}", None
    if digest == case["intact"] and not case["strict"]:
        return "open: damage went unnoticed, contents intact", None
    allowed = sorted(case["allowed"]) or ["none: CorruptionError expected"]
    return "open", (f"{label}: opened with {result['records']} records, matching none of the allowed states "
                    f"{allowed} (lost or damaged acknowledged data)")


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("corruption")
    states = build(root / "live", root / "pristine")
    universe = collections.defaultdict(set)
    for state in states:
        for name, records in state.items():
            universe[name].update(records)
    return {"root": root, "pristine": root / "pristine", "states": states,
            "universe": {name: sorted(ids) for name, ids in universe.items()}}


def run_and_judge(database: dict, sync: str, capsys) -> None:
    started = time.perf_counter()
    pristine = database["pristine"]
    cases = make_cases(pristine, database["states"], sync)
    scratch = database["root"] / f"scratch-{sync}"
    scratch.mkdir()
    results, problems = run_cases(cases, pristine, scratch, database["universe"])
    summary = collections.Counter()
    by_file = collections.defaultdict(collections.Counter)
    for case in cases:
        result = results.get(case["id"])
        if result is None:
            continue  # its crash or hang is among the problems
        category, problem = judge(case, result)
        summary[category] += 1
        kind = case["file"].rsplit(".", 1)[-1] if "/" in case["file"] else case["file"]
        by_file[kind][category] += 1
        if problem:
            problems.append(problem)
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\ncorruption test, opened with sync={sync!r}: {len(cases)} damaged copies in {seconds:.1f} s")
        for kind, counts in sorted(by_file.items()):
            print(f"  {kind}: {dict(sorted(counts.items()))}")
    assert not problems, f"{len(problems)} of {len(cases)} damaged copies failed:\n" + "\n".join(problems[:40])


def test_damaged_files_give_corruption_error_or_a_correct_database(database, capsys):
    """Opened as written (sync="full"): only damage in the log's tail may be recovered."""
    run_and_judge(database, "full", capsys)


def test_damaged_log_opened_with_sync_normal(database, capsys):
    """Opened with sync="normal": the same verdicts as with "full" (damage is never read as the end
    of the log, which would drop acknowledged records silently)."""
    run_and_judge(database, "normal", capsys)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        sys.exit(worker(sys.argv[2]))
    sys.exit("usage: test_corruption.py --worker SPEC.json (the test runs it; run the test with pytest)")
