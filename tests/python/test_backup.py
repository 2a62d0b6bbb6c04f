"""db.backup(path): a consistent copy, taken while writes go on, that opens like any database.

Copies of a writer, a read-only handle and an in-memory database hold every record bit for bit;
destinations in use are refused with a clear error; 20 backups taken while a thread writes each
equal the model at one acknowledged point; and a backup process killed with SIGKILL at random
moments never leaves a copy that opens damaged (the crash harness of test_crash.py, for backups).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import crash_workload as workload
import omendb

METADATA = [
    {"null": None, "yes": True, "int": -(2**62), "float": 0.1, "text": "héllo", "list": ["a", "ü"]},
    {"empty": "", "nothing": [], "no": False},
    {},
]
KILL_TRIALS = int(os.environ.get("OMENDB_BACKUP_KILL_TRIALS", "20"))


def fill(db, rng: np.random.Generator) -> dict:
    """Two collections (one quantized), a checkpoint, then a log tail; returns name -> {id:
    (vector bytes, metadata)}."""
    expected: dict = {}
    for name, options in (("docs", {"metric": "l2"}), ("codes", {"metric": "cosine", "quantization": "sq8"})):
        col = db.collection(name, dim=16, **options)
        ids = [f"{name}{i}" for i in range(300)]
        vectors = rng.standard_normal((300, 16)).astype(np.float32)
        col.add(ids, vectors, [METADATA[i % 3] for i in range(300)])
        db.checkpoint()
        col.upsert(ids[:20], vectors[20:40], [{"upserted": i} for i in range(20)])
        col.delete(ids[40:50])
        expected[name] = {record.id: (record.vector.tobytes(), record.metadata)
                          for record in col.get(ids) if record is not None}
    return expected


def held(db) -> dict:
    """What ``db`` holds, in fill()'s form."""
    out = {}
    for name in db.collections():
        col = db.collection(name)
        ids = [f"{name}{i}" for i in range(300)]
        out[name] = {record.id: (record.vector.tobytes(), record.metadata)
                     for record in col.get(ids) if record is not None}
        assert len(col) == len(out[name])
    return out


def expect_copy(path: Path, expected: dict) -> None:
    """The copy at ``path`` holds ``expected``, searches, and takes writes that survive a reopen."""
    assert not Path(str(path) + ".omendb-partial").exists()
    with omendb.open(path) as copy:
        assert held(copy) == expected
        docs = copy.collection("docs")
        some = "docs100"  # a vector no other record holds
        vector = np.frombuffer(expected["docs"][some][0], dtype=np.float32)
        assert docs.search(vector, k=1)[0].id == some
        docs.add(["new"], vector[None, :])
    with omendb.open(path) as copy:
        assert len(copy.collection("docs")) == len(expected["docs"]) + 1


def test_backup_of_a_writer_a_reader_and_memory(tmp_path, rng):
    with omendb.open(tmp_path / "db") as db:
        expected = fill(db, rng)
        db.backup(tmp_path / "copy")  # os.PathLike
        expect_copy(tmp_path / "copy", expected)
        reader = omendb.open(tmp_path / "db", read_only=True)
        db.collection("docs").delete(["docs60"])  # committed, not yet refreshed by the reader
        del expected["docs"]["docs60"]
        reader.backup(str(tmp_path / "from-reader"))
        reader.close()
        expect_copy(tmp_path / "from-reader", expected)

    memory = omendb.open(":memory:")
    expected = fill(memory, rng)
    memory.backup(tmp_path / "saved" / "memory")
    expect_copy(tmp_path / "saved" / "memory", expected)


def test_backup_refuses_a_destination_in_use(tmp_path, rng):
    db = omendb.open(tmp_path / "db")
    fill(db, rng)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("not ours")
    (tmp_path / "file").write_text("a file")
    cases = {
        tmp_path / "full": "not empty",
        tmp_path / "file": "a file of that name exists",
        tmp_path / "db" / "inside": "inside the database's own",
        ":memory:": "needs a folder",
    }
    for path, message in cases.items():
        with pytest.raises(omendb.InvalidArgumentError, match=message):
            db.backup(path)
    assert (tmp_path / "full" / "keep.txt").read_text() == "not ours"
    db.close()
    with pytest.raises(omendb.ClosedError):
        db.backup(tmp_path / "later")


def test_twenty_backups_during_writes_each_equal_an_acknowledged_state(tmp_path):
    """A thread runs the crash test's workload (adds, upserts, deletes, checkpoints, a small
    checkpoint_log_bytes so checkpoints run by themselves); each backup must equal the model after
    k operations, k between those acknowledged before the backup and those begun before it
    returned."""
    seed, copies = 7, 20
    db = omendb.open(tmp_path / "db", checkpoint_log_bytes=workload.CHECKPOINT_LOG_BYTES)
    begun = acknowledged = 0
    failure: list = []

    def write() -> None:
        nonlocal begun, acknowledged
        generator = workload.Workload(seed)
        try:
            for _ in range(workload.DEFAULT_OPS):
                op = generator.next_op()
                begun += 1
                problem = workload.run_op(db, op)
                assert problem is None, problem
                generator.apply(op)
                acknowledged += 1
                time.sleep(0.002)
        except BaseException as error:  # reported by the main thread
            failure.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    bounds = []
    for number in range(copies):
        least = acknowledged
        db.backup(tmp_path / f"copy{number}")
        bounds.append((least, begun))
        time.sleep(0.01)
    writer.join()
    db.close()
    assert not failure, failure
    assert bounds[0][1] < workload.DEFAULT_OPS, "the writer finished before the first backup"
    found = []
    for number, (least, most) in enumerate(bounds):
        with omendb.open(tmp_path / f"copy{number}", read_only=True) as copy:
            state, differences = workload.match_state(copy, seed, range(least, most + 1))
        assert state is not None, f"copy {number} equals no state in {least}..{most}: {differences}"
        found.append(state)
    assert found == sorted(found)
    assert len(set(found)) > copies // 2, f"the copies hold too few distinct states: {found}"


BACKUP_PROCESS = """
import sys, omendb
db = omendb.open(sys.argv[1], read_only=sys.argv[3] == "reader")
print("start", flush=True)
db.backup(sys.argv[2])
print("done", flush=True)
"""


def test_a_killed_backup_leaves_no_damaged_copy(tmp_path, rng):
    """SIGKILL at a random moment of a backup, from a writer or a read-only process: the copy
    does not exist, or it equals the database; a partial folder left behind does not open
    unless it is whole; and the next backup to the same path works."""
    with omendb.open(tmp_path / "db") as db:
        for name in ("docs", "codes"):
            col = db.collection(name, dim=64)
            col.add([f"{name}{i}" for i in range(20_000)], rng.standard_normal((20_000, 64)).astype(np.float32))
            db.checkpoint()
            col.add([f"{name}{i}" for i in range(20_000, 20_300)],
                    rng.standard_normal((300, 64)).astype(np.float32))
    with omendb.open(tmp_path / "db", read_only=True) as db:
        expected = {name: len(db.collection(name)) for name in db.collections()}
        sample = {name: db.collection(name).get([f"{name}0", f"{name}20299"]) for name in expected}

    def same_as_source(path: Path) -> None:
        with omendb.open(path, read_only=True) as copy:
            assert {name: len(copy.collection(name)) for name in copy.collections()} == expected
            for name, records in sample.items():
                got = copy.collection(name).get([record.id for record in records])
                assert [g.vector.tobytes() for g in got] == [r.vector.tobytes() for r in records]

    chance = random.Random(20261202)
    durations = []
    outcomes = {"no copy": 0, "copy": 0, "partial folder left, not a database": 0, "partial folder left, whole": 0}
    for trial in range(KILL_TRIALS):
        target = tmp_path / f"copy{trial}"
        mode = "reader" if trial % 2 else "writer"
        process = subprocess.Popen([sys.executable, "-c", BACKUP_PROCESS, str(tmp_path / "db"), str(target), mode],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "start", process.stderr.read()
        started = time.monotonic()
        if trial < 2:  # measure how long a backup takes
            assert process.wait(60) == 0, process.stderr.read()
            durations.append(time.monotonic() - started)
            same_as_source(target)
            continue
        time.sleep(chance.uniform(0, max(durations) * 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait(60)
        process.stdout.close()
        process.stderr.close()
        partial = Path(str(target) + ".omendb-partial")
        if target.exists():
            same_as_source(target)
            outcomes["copy"] += 1
        else:
            outcomes["no copy"] += 1
        if partial.exists():
            try:
                same_as_source(partial)
                outcomes["partial folder left, whole"] += 1  # killed between its manifest and the rename
            except (omendb.NotFoundError, omendb.CorruptionError):  # no manifest yet, or data without one
                outcomes["partial folder left, not a database"] += 1
            # The next backup to the same path clears it.
            with omendb.open(tmp_path / "db", read_only=True) as db:
                db.backup(target)
            assert not partial.exists()
            same_as_source(target)
    if KILL_TRIALS > 2:
        assert outcomes["no copy"] > 0, outcomes
    print(f"\nkilled backups: {outcomes}; a whole backup took {1000 * max(durations):.0f} ms")
