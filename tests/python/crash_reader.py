"""A read-only process of the crash test (test_crash.py): it reads the database that the writer
(crash_workload.py) is changing and being killed in, and checks every read against the
workload's model, until the test tells it to stop.

Each read: (re)open with ``omendb.open(path, read_only=True)`` or ``refresh()`` the open handle
(keeping the collection handle across refreshes), then ``collections()``, ``len()``, ``get()`` of
every id a state from the previous read's on can hold (that state's ids and those of every later
operation), ``count()`` with a filter and a few searches. The database must equal, record by
record and bit for bit (vector bytes, metadata values and types), the model after some number j
of operations, with j never below the previous read's (the first match at or after it is taken);
anything else is a violation:

- ``error``: any call raised (open, refresh, get, ...), except as tolerated below;
- ``backwards``: the database equals the model after fewer operations than an earlier read saw;
- ``no-state``: it equals no state of the model at all: a partial batch, a lost or wrong record
  (the message names the closest state and, for a partial batch, how much of it is visible);
- ``record`` / ``collections`` / ``count`` / ``search``: get() returned a record of another id,
  dtype or shape; collections other than the workload's; a metadata count or a search hit (id,
  metadata, distance, order, number of hits, or an exact search not finding a stored vector at
  distance 0) disagreeing with the state the records matched.

Tolerated, and only this: before the reader's first successful open, ``omendb.open(path,
read_only=True)`` raising ``NotFoundError``. That is the time before the writer's first MANIFEST
exists (the folder missing, or holding only LOCK, the collections folder and an empty log); the
reader retries. A re-open after a successful one gets no such allowance. State 0 (the database
exists, the collection not yet) is an ordinary state of the model, not a tolerance.

What a reader cannot judge alone (its reads against the writer's acknowledgements, and against
what the next writer and the final reopen find) the test checks from the lines it writes.

It prints "ready" on standard output once it is about to read for the first time. The reader
reads about a quarter of the time (``--duty``; it pauses in between), so that the writer, whose
pace decides where the kills land, keeps most of the CPU. It runs until its standard input ends
(the test closes it), then takes one last read, the "final" line, and exits 0; it stops at once,
exit status 3, on a violation.

Output: JSON lines appended to OUT, one per event:
    {"event": "start", "t": T}
    {"event": "read", "t0": T, "t1": T, "lo": j, "hi": j2, "also": [[j3, j4], ...], "size": n, "reopen": bool}
    {"event": "final", ... as read, or "opened": false when no database was ever found, "stats": {...}}
    {"event": "violation", "kind": K, "message": M, "stats": {...}}   (then exit status 3)
T are time.monotonic() seconds (one clock for every process of the machine): t0 before the
open or refresh, t1 after it. [lo, hi]: the states the database equals (hi > lo when operations
lo..hi-1 are checkpoints, which change no record); "also": later states that hold the same records
(after a delete of every record, the empty collection equals the state right after its creation). A reader still running after MAX_SECONDS
writes "abandoned" and exits 2.

Usage: python crash_reader.py PATH SEED --out OUT [--ops N] [--pause S] [--duty D] [--reader-seed R] < pipe
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import sys
import time
import traceback
from typing import Optional

import numpy as np

import crash_workload as workload
import omendb

REOPEN_P = 0.1  # chance that a read opens a new handle instead of refreshing the held one
SEARCHES = 2  # stored vectors searched per read (and one random query, one filtered search)
MAX_SECONDS = 600  # a reader left running past this (its test gone) stops by itself
GET_CHUNK = 4096


class Violation(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def value_of(vector: bytes, metadata: dict, caption, document) -> tuple:
    """How a record is compared: (vector bytes, metadata as repr() writes it with its keys in
    sorted order, whether flag is True, caption bytes or None, document or None). Equal means bit
    for bit equal and of the same types, as with workload.canonical(), at half its cost (the
    database returns keys sorted)."""
    keys = list(metadata)
    text = repr(metadata) if keys == sorted(keys) else repr(dict(sorted(metadata.items())))
    return vector, text, metadata.get("flag") is True, caption, document


class ModelStates:
    """The model's operations as effects, generated lazily from the seed: effects(i) is "create",
    [] (a checkpoint), [(id, value or None for deleted)], or None past the last operation."""

    def __init__(self, seed: int, ops: int) -> None:
        self._generator = workload.Workload(seed)
        self._ops = ops
        self._effects: list = []
        self._sizes: list = [0]  # records in the state after i operations (none in state 0)

    def effects(self, i: int):
        while len(self._effects) <= i and self._generator.count < self._ops:
            op = self._generator.next_op()
            self._generator.apply(op)
            self._effects.append(self._effects_of(op))
            self._sizes.append(len(self._generator.model.records))
        return self._effects[i] if i < len(self._effects) else None

    def any_later_of_size(self, after: int, size: int) -> bool:
        """Whether a state after more than ``after`` operations holds ``size`` records."""
        self.effects(self._ops)
        return size in self._sizes[after + 1 :]

    @staticmethod
    def _effects_of(op: workload.Op):
        if op.kind == "create":
            return "create"
        if op.kind == "delete":
            return [(record_id, None) for record_id in op.ids]
        if op.kind == "checkpoint":
            return []
        out = []
        for row, record_id in enumerate(op.ids):
            meta = {} if op.metadata is None or op.metadata[row] is None else op.metadata[row]
            document = None if op.documents is None else op.documents[row]
            out.append((record_id, value_of(op.vectors[row].tobytes(), meta, workload.caption_bytes(op, row),
                                            document)))
        return out


class View:
    """What one opened-or-refreshed handle holds; records are read on demand and kept (the
    handle does not change until the next refresh)."""

    def __init__(self, col) -> None:
        self.col = col
        self.size = len(col) if col is not None else 0
        self.values: dict = {}  # id -> value_of(...) or None

    def fetch(self, ids) -> None:
        wanted = [record_id for record_id in ids if record_id not in self.values]
        for start in range(0, len(wanted), GET_CHUNK):
            chunk = wanted[start : start + GET_CHUNK]
            for record_id, record in zip(chunk, self.col.get(chunk)):
                if record is None:
                    self.values[record_id] = None
                    continue
                vector = record.vector
                if record.id != record_id or vector.dtype != np.float32 or vector.shape != (workload.DIM,):
                    raise Violation("record", f"get({record_id!r}) returned id {record.id!r}, vector "
                                              f"{vector.dtype} {vector.shape}")
                caption = record.vectors.get(workload.CAPTION)
                self.values[record_id] = value_of(vector.tobytes(), record.metadata,
                                                  None if caption is None else caption.tobytes(),
                                                  record.document)


def match(view: View, records: Optional[dict], start: int, states: ModelStates, commit: bool,
          until: Optional[int] = None):
    """The least j >= ``start`` (and below ``until``) whose state ``view`` equals (``records``
    is the state after ``start`` operations; None: no collection): (j, records after j),
    updating ``records`` in place when ``commit``; or (None, (mismatches, j) of the closest
    state)."""
    j = start
    if records is None:
        if view.col is None:
            return 0, None
        records, j = {}, 1  # the collection exists: state 1 (op 0 created it) or later
    elif view.col is None:
        return None, (None, start)
    overlay: dict = {}
    size = len(records)
    view.fetch(records)
    bad = sum(1 for record_id, value in records.items() if view.values[record_id] != value)
    closest = (bad + abs(size - view.size), j)
    while not (bad == 0 and size == view.size):
        effects = states.effects(j) if until is None or j + 1 < until else None
        if effects is None:
            return None, closest
        view.fetch([record_id for record_id, _ in effects])
        for record_id, new in effects:
            seen = view.values[record_id]
            if record_id in overlay:
                old = overlay[record_id]
                bad -= seen != old
            else:
                old = records.get(record_id)
                if record_id in records:
                    bad -= seen != old
            bad += seen != new
            size += (new is not None) - (old is not None)
            overlay[record_id] = new
        j += 1
        closest = min(closest, (bad + abs(size - view.size), j))
    if not commit:
        records = dict(records)
    for record_id, value in overlay.items():
        if value is None:
            records.pop(record_id, None)
        else:
            records[record_id] = value
    return j, records


def later_matches(view: View, records: Optional[dict], hi: int, states: ModelStates) -> list:
    """The states after more than ``hi`` operations that ``view`` equals too, as [lo, hi] ranges
    (``records``: the state after ``hi`` operations). Different states can hold the same records
    (every record deleted, say): the test then takes the one its other checks allow."""
    ranges: list = []
    while records is not None and states.any_later_of_size(hi, view.size):
        effects = states.effects(hi)
        if effects is None:
            break
        records = dict(records)
        for record_id, value in effects:
            if value is None:
                records.pop(record_id, None)
            else:
                records[record_id] = value
        lo, records = match(view, records, hi + 1, states, commit=True)
        if lo is None:
            break
        hi = lo
        while states.effects(hi) == []:
            hi += 1
        ranges.append([lo, hi])
    return ranges


def describe(view: View, seed: int, ops: int, j: int) -> str:
    """How ``view`` differs from the state after ``j`` operations, and from op j's batch."""
    states = ModelStates(seed, ops)
    records: dict = {}
    for i in range(1, j):
        for record_id, value in states.effects(i):
            if value is None:
                records.pop(record_id, None)
            else:
                records[record_id] = value
    view.fetch(records)
    missing = sorted(i for i in records if view.values[i] is None)
    vectors = sorted(i for i in records if view.values[i] is not None and view.values[i][0] != records[i][0])
    metadata = sorted(i for i in records if view.values[i] is not None and view.values[i][1] != records[i][1])
    captions = sorted(i for i in records if view.values[i] is not None and view.values[i][3] != records[i][3])
    parts = [f"vs state {j} ({len(records)} records; len() is {view.size}): {len(missing)} missing "
             f"{missing[:5]}, {len(vectors)} vectors differ {vectors[:5]}, {len(metadata)} metadata differ "
             f"{[(i, view.values[i][1], records[i][1]) for i in metadata[:2]]}, {len(captions)} captions "
             f"differ {captions[:5]}"]
    effects = states.effects(j)
    if isinstance(effects, list) and effects:
        view.fetch([record_id for record_id, _ in effects])
        after = sum(1 for record_id, new in effects if view.values[record_id] == new)
        before = sum(1 for record_id, new in effects
                     if view.values[record_id] == records.get(record_id) and view.values[record_id] != new)
        parts.append(f"op {j}'s batch ({len(effects)} ids): {after} as after it, {before} as before it, "
                     f"{len(effects) - after - before} neither")
    return "; ".join(parts)


class Reader:
    """One read-only process's handles, its last state and the model from there on."""

    def __init__(self, args: argparse.Namespace, emit) -> None:
        self.path, self.seed, self.ops = args.path, args.seed, args.ops
        self.rng = random.Random(args.reader_seed)
        self.emit = emit
        self.db = None
        self.col = None  # the collection handle, kept across refreshes
        self.opened_once = False
        self.states = ModelStates(self.seed, self.ops)
        self.index = 0  # the state of the last read (its least j)
        self.records: Optional[dict] = None  # the model after self.index operations
        self.stats = dict(reads=0, refreshes=0, opens=0, waits=0, records_checked=0, searches=0,
                          approximate_self_misses=0, states_seen=0, start_cpu_seconds=time.process_time(),
                          cpu_seconds=0.0)

    def read(self, final: bool = False) -> None:
        t0 = time.monotonic()
        reopen = self.db is None or (not final and self.rng.random() < REOPEN_P)
        if reopen:
            if self.db is not None:
                self.db.close()
                self.db = self.col = None
            try:
                self.db = omendb.open(self.path, read_only=True)
            except omendb.NotFoundError:
                if not self.opened_once:
                    self.stats["waits"] += 1
                    if final:
                        self.stats["cpu_seconds"] = time.process_time()
                        self.emit(event="final", opened=False, t0=t0, stats=self.stats)
                    return
                raise
            self.opened_once = True
            self.stats["opens"] += 1
        else:
            self.db.refresh()
            self.stats["refreshes"] += 1
        t1 = time.monotonic()
        names = self.db.collections()
        if names not in ([], [workload.COLLECTION]):
            raise Violation("collections", f"collections() is {names}")
        if names and self.col is None:
            self.col = self.db.collection(workload.COLLECTION)
        view = View(self.col if names else None)
        previous = self.index
        j, found = match(view, self.records, self.index, self.states, commit=True)
        if j is None:
            self.diagnose(view, previous, found)
        self.index, self.records = j, found
        self.stats["states_seen"] += j != previous or self.stats["reads"] == 0
        hi = j
        while self.states.effects(hi) == []:
            hi += 1
        if found is not None:
            self.check_queries(found)
            self.stats["records_checked"] += len(found)
        self.stats["reads"] += 1
        self.stats["cpu_seconds"] = time.process_time()
        line = dict(t0=t0, t1=t1, lo=j, hi=hi, size=view.size, reopen=reopen,
                    also=later_matches(view, found, hi, self.states))
        if final:
            self.emit(event="final", opened=True, stats=self.stats, **line)
        else:
            self.emit(event="read", **line)

    def diagnose(self, view: View, previous: int, closest) -> None:
        earlier, _ = match(view, None, 0, ModelStates(self.seed, self.ops), commit=False, until=previous)
        if earlier is not None:
            raise Violation("backwards", f"the database holds the state after {earlier} operations; "
                                         f"an earlier read saw the state after {previous}")
        if view.col is None:
            raise Violation("no-state", f"the collection is gone; an earlier read saw the state after {previous}")
        differences = describe(view, self.seed, self.ops, closest[1])
        raise Violation("no-state", f"the database equals no state of the model at or after {previous} "
                                    f"(a partial batch or a wrong record): {differences}")

    def check_queries(self, records: dict) -> None:
        col = self.col
        flagged = sum(1 for value in records.values() if value[2])
        counted = col.count({"flag": True})
        if counted != flagged:
            raise Violation("count", f"count(flag=True) is {counted}, the state holds {flagged}")
        if not records:
            return
        ids = list(records)
        for record_id in self.rng.sample(ids, min(SEARCHES, len(ids))):
            query = np.frombuffer(records[record_id][0], dtype=np.float32)
            hits = self.check_hits(records, query, col.search(query, k=10, ef=64), min(10, len(ids)), "search(ef=64)")
            self.stats["approximate_self_misses"] += not any(h.id == record_id and h.distance == 0 for h in hits)
            exact = col.search(query, k=1, exact=True)
            if len(exact) != 1 or exact[0].id != record_id or exact[0].distance != 0:
                raise Violation("search", f"exact search for the stored vector of {record_id!r} returned "
                                          f"{[(h.id, h.distance) for h in exact]}")
        query = np.asarray([self.rng.gauss(0, 1) for _ in range(workload.DIM)], dtype=np.float32)
        self.check_hits(records, query, col.search(query, k=10), min(10, len(ids)), "search")
        hits = self.check_hits(records, query, col.search(query, k=5, where={"flag": True}), min(5, flagged),
                               "search(flag=True)")
        if any(not records[h.id][2] for h in hits):
            raise Violation("search", "search(where flag=True) returned a record without flag=True")
        self.stats["searches"] += 2 * min(SEARCHES, len(ids)) + 2

    @staticmethod
    def check_hits(records: dict, query: np.ndarray, hits: list, expected: int, what: str) -> list:
        if len(hits) != expected:
            raise Violation("search", f"{what} returned {len(hits)} hits, expected {expected}")
        last = -1.0
        for hit in hits:
            value = records.get(hit.id)
            if value is None:
                raise Violation("search", f"{what} returned {hit.id!r}, which the state does not hold")
            if value_of(b"", hit.metadata, None, None)[1] != value[1]:
                raise Violation("search", f"{what}: hit {hit.id!r} has metadata {hit.metadata!r}")
            vector = np.frombuffer(value[0], dtype=np.float32).astype(np.float64)
            distance = float(np.sum((vector - query) ** 2))
            if abs(hit.distance - distance) > 1e-4 * (1 + distance) or hit.distance < last:
                raise Violation("search", f"{what}: hit {hit.id!r} at distance {hit.distance}, expected "
                                          f"{distance} (previous hit at {last})")
            last = hit.distance
        return hits

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def stop_requested(timeout: float) -> bool:
    """Waits up to ``timeout`` seconds for the end of standard input: the test closes it to stop
    the reader (and it ends when the test dies)."""
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    return bool(ready) and os.read(sys.stdin.fileno(), 4096) == b""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("seed", type=int, help="the writer's seed")
    parser.add_argument("--out", required=True, help="file the JSON lines are appended to")
    parser.add_argument("--ops", type=int, default=workload.DEFAULT_OPS, help="the writer's --ops")
    parser.add_argument("--pause", type=float, default=0.01, help="least mean seconds between reads")
    parser.add_argument("--duty", type=float, default=0.25, help="the share of its time the reader reads")
    parser.add_argument("--reader-seed", type=int, default=0, help="seeds the reader's own choices")
    args = parser.parse_args(argv)

    with open(args.out, "a", buffering=1) as out:
        def emit(**fields) -> None:
            out.write(json.dumps(fields) + "\n")

        emit(event="start", t=time.monotonic())
        reader = Reader(args, emit)
        print("ready", flush=True)  # the test may wait for this before it starts the writer
        deadline = time.monotonic() + MAX_SECONDS
        try:
            while not stop_requested(0):
                if time.monotonic() > deadline:
                    emit(event="abandoned", stats=reader.stats)
                    return 2
                started = time.monotonic()
                reader.read()
                # Busy at most about ``duty`` of the time, so that the writer keeps most of the CPU.
                cost = time.monotonic() - started
                pause = max(args.pause, cost * (1 / args.duty - 1))
                if stop_requested(reader.rng.uniform(0.5, 1.5) * pause):
                    break
            reader.read(final=True)
            reader.close()
        except Violation as violation:
            emit(event="violation", kind=violation.kind, message=str(violation), stats=reader.stats)
            return 3
        except Exception:
            emit(event="violation", kind="error", message=traceback.format_exc(), stats=reader.stats)
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
