"""The workload of the crash test (test_crash.py): a seeded sequence of operations on one on-disk
collection, with a plain-Python model of what the collection holds after each of them.

Shared by the writer (this file run as a script: it performs the operations and reports each one,
until it is killed) and the checker (the test, which rebuilds the model to know what the
reopened database must hold). Everything is a function of the seed: operation ``i`` and the model
after ``i`` operations are the same in both processes.

Operations: 0 creates the collection; then mostly ``add`` of new ids, ``upsert`` of existing ids
(new vectors and metadata; now and then a new id too), ``delete`` of existing ids (now and then
an id that does not exist), and an explicit ``db.checkpoint()`` now and then. Batches hold 1 to
200 records, ids ``b<op>_<i>``, metadata of every value type (int, float, str, bool, None, list of
str), two named vector fields: ``body`` (dimension 16, l2, in every record) and ``caption``
(dimension 8, ip, in most records: a batch may leave it out, or give None for some of its records),
and a document in most records (indexed for BM25 search with English stemming; words from a
small vocabulary, so that text queries match many records). The database is opened with a small ``checkpoint_log_bytes`` (64 KiB)
so that an automatic checkpoint runs every few operations and some kills land inside one.

Writer protocol (stdout, one line each, flushed):
    opening                 before omendb.open()
    opened <k>              the database is open and holds the state after k operations
    begin <i> <kind>        operation i is about to be called
    ack <i>                 the call of operation i returned
    done                    every operation ran and the database was closed
    error <message>         the database differs from the model (exit status 3)

Usage: python crash_workload.py PATH SEED [--sync full|normal|off] [--ops N] [--resume K1,K2,...]
``--resume``: the database already holds the state after one of K1, K2, ... operations (a
previous writer was killed); the writer finds out which (comparing every record), reports it
with ``opened``, and goes on from there.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

DIM = 16
CAPTION_DIM = 8
FIRST_FIELD, CAPTION = "body", "caption"
COLLECTION = "crash"
# The documents' words; text queries of the checks draw from them too.
WORDS = ("river", "stone", "rivers", "running", "bright", "quiet", "harbour", "lantern", "ünïcødé",
         "東京", "snow", "owl", "the", "a", "copper", "meadow")
CHECKPOINT_LOG_BYTES = 64 << 10  # an automatic checkpoint every few batches
DEFAULT_OPS = 120
EF_CONSTRUCTION = 100  # below the default 200: the test spends its time on crashes, not builds
MAX_BATCH = 200

# Operation mix after the first (create): cumulative probabilities.
P_ADD, P_UPSERT, P_DELETE = 0.63, 0.79, 0.95  # the rest: explicit checkpoint

_STRINGS = ["", "a", "news", "blog", "héllo wörld", "☃ snow", "日本語", "x" * 300, "tab\tnew\nline", "'quote\""]
_TAGS = ["red", "green", "blue", "", "ünï", "long-" + "t" * 40]
_FLOATS = [0.0, -0.0, 1.5, -2.25, 1e-310, 5e-324, 1e300, -1e300, math.pi]
_INTS = [0, -1, 1, 2**63 - 1, -(2**63), 2**53 + 1]


@dataclass
class Op:
    """One operation. ``metadata`` None means the call passes no metadata."""

    index: int
    kind: str  # "create", "add", "upsert", "delete", "checkpoint"
    ids: list
    vectors: Optional[np.ndarray] = None
    metadata: Optional[list] = None
    captions: Optional[list] = None  # one row or None per id; None: the call gives no captions
    documents: Optional[list] = None  # one str or None per id; None: the call gives no documents
    deleted: int = 0  # for delete: how many of the ids exist (the call's return value)


class Model:
    """The collection's expected contents: None before the collection exists, else
    id -> (vector bytes, metadata dict, caption bytes or None, document or None)."""

    def __init__(self) -> None:
        self.records: Optional[dict] = None
        self.live: list = []  # the ids of ``records``, in an order that only operations change
        self._position: dict = {}

    def copy_records(self) -> Optional[dict]:
        return None if self.records is None else dict(self.records)

    def put(self, record_id: str, value: tuple) -> None:
        if record_id not in self.records:
            self._position[record_id] = len(self.live)
            self.live.append(record_id)
        self.records[record_id] = value

    def remove(self, record_id: str) -> bool:
        if record_id not in self.records:
            return False
        del self.records[record_id]
        slot = self._position.pop(record_id)
        last = self.live.pop()
        if last != record_id:
            self.live[slot] = last
            self._position[last] = slot
        return True


class Workload:
    """Generates operation after operation from ``seed`` and keeps the model up to date:
    ``op = w.next_op()`` then, once it is done, ``w.apply(op)``."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng([seed, 0xC0FFEE])
        self.model = Model()
        self.count = 0  # operations applied

    def next_op(self) -> Op:
        i, rng = self.count, self.rng
        if i == 0:
            return Op(0, "create", [])
        live = self.model.live
        r = rng.random()
        size = int(rng.integers(1, MAX_BATCH + 1))
        if r < P_ADD or not live:
            ids = [f"b{i}_{j}" for j in range(size)]
            with_metadata = rng.random() >= 0.1
            return Op(i, "add", ids, self._vectors(size), self._metadata(size) if with_metadata else None,
                      self._captions(size), self._documents(size))
        if r < P_UPSERT:
            chosen = self._sample(min(size, len(live)))
            if rng.random() < 0.2:
                chosen += [f"b{i}_{j}" for j in range(int(rng.integers(1, 6)))]
            rng.shuffle(chosen)
            with_metadata = rng.random() >= 0.1
            n = len(chosen)
            return Op(i, "upsert", chosen, self._vectors(n), self._metadata(n) if with_metadata else None,
                      self._captions(n), self._documents(n))
        if r < P_DELETE:
            chosen = self._sample(min(size, max(1, len(live) // 3)))
            deleted = len(chosen)
            if rng.random() < 0.3:  # ids that do not exist: skipped, not counted
                chosen += [f"missing{i}_{j}" for j in range(int(rng.integers(1, 4)))]
                rng.shuffle(chosen)
            return Op(i, "delete", chosen, deleted=deleted)
        return Op(i, "checkpoint", [])

    def apply(self, op: Op) -> None:
        assert op.index == self.count
        model = self.model
        if op.kind == "create":
            model.records = {}
        elif op.kind in ("add", "upsert"):
            for row, record_id in enumerate(op.ids):
                meta = {} if op.metadata is None or op.metadata[row] is None else op.metadata[row]
                document = None if op.documents is None else op.documents[row]
                model.put(record_id, (op.vectors[row].tobytes(), meta, caption_bytes(op, row), document))
        elif op.kind == "delete":
            for record_id in op.ids:
                model.remove(record_id)
        self.count += 1

    def _sample(self, n: int) -> list:
        live = self.model.live
        picks = self.rng.choice(len(live), size=n, replace=False)
        return [live[p] for p in sorted(picks)]

    def _vectors(self, n: int) -> np.ndarray:
        vectors = self.rng.standard_normal((n, DIM)).astype(np.float32)
        if self.rng.random() < 0.1:  # values that must survive bit for bit
            vectors[0, 0] = -0.0
            vectors[-1, DIM - 1] = np.float32(1e-40)  # subnormal
        return vectors

    def _captions(self, n: int) -> Optional[list]:
        if self.rng.random() < 0.15:
            return None  # the batch gives no captions: none of its records has one
        rows = self.rng.standard_normal((n, CAPTION_DIM)).astype(np.float32)
        present = self.rng.random(n) < 0.7
        return [rows[i] if present[i] else None for i in range(n)]

    def _documents(self, n: int) -> Optional[list]:
        if self.rng.random() < 0.1:
            return None  # the batch gives no documents: none of its records has one
        lengths = self.rng.integers(0, 9, size=n)
        present = self.rng.random(n) < 0.85
        words = self.rng.integers(0, len(WORDS), size=(n, 8))
        return [" ".join(WORDS[w] for w in words[i, : lengths[i]]) if present[i] else None
                for i in range(n)]

    def _metadata(self, n: int) -> list:
        rng = self.rng
        roll = rng.random((n, 9))  # one column per decision, drawn for the whole batch at once
        ints = rng.integers(-10**12, 10**12, size=n)
        normals = rng.standard_normal(n)
        picks = rng.integers(0, 1 << 30, size=(n, 5))
        out = []
        for row in range(n):
            r, p = roll[row], picks[row]
            if r[0] < 0.05:
                out.append(None)  # no fields
                continue
            if r[0] < 0.1:
                out.append({})
                continue
            meta: dict[str, Any] = {"op": self.count}
            if r[1] < 0.8:
                meta["n"] = _INTS[p[0] % len(_INTS)] if r[1] < 0.15 else int(ints[row])
            if r[2] < 0.8:
                meta["x"] = _FLOATS[p[1] % len(_FLOATS)] if r[2] < 0.25 else float(normals[row])
            if r[3] < 0.7:
                meta["s"] = _STRINGS[p[2] % len(_STRINGS)]
            if r[4] < 0.7:
                meta["flag"] = bool(r[4] < 0.35)
            if r[5] < 0.3:
                meta["nothing"] = None
            if r[6] < 0.6:
                count = p[3] % 5
                meta["tags"] = [_TAGS[(p[4] >> (3 * t)) % len(_TAGS)] for t in range(count)]
            if r[7] < 0.2:
                meta["ключ"] = "значение"
            out.append(meta)
        return out


def caption_bytes(op: Op, row: int) -> Optional[bytes]:
    """The caption of record ``row`` of ``op`` as stored bytes, or None when it has none."""
    if op.captions is None or op.captions[row] is None:
        return None
    return op.captions[row].tobytes()


def states_at(seed: int, indices) -> dict:
    """The model's records after each of ``indices`` operations (None: no collection yet), plus
    the ids of every operation in between (the ids any of those states can hold are among
    them): returns {"states": {k: records}, "ids": set}."""
    indices = sorted(set(indices))
    workload = Workload(seed)
    states, ids = {}, set()
    for target in indices:
        while workload.count < target:
            op = workload.next_op()
            workload.apply(op)
            if workload.count > indices[0]:
                ids.update(op.ids)
        states[target] = workload.model.copy_records()
    for records in states.values():
        if records:
            ids.update(records)
    return {"states": states, "ids": ids}


# --- comparing a database with the model


def canonical(metadata: Any) -> str:
    """A form of a metadata dict in which equal means bit for bit equal and of the same type
    (Python's == has 1 == 1.0 == True and 0.0 == -0.0; repr tells them apart, and repr of a
    float is the shortest string that reads back as the same bits)."""
    if isinstance(metadata, dict):
        return repr(sorted(metadata.items()))
    return repr(metadata)


def read_records(db, ids) -> dict:
    """What ``db`` holds: {"exists": bool, "len": int, "records": {id: (vector bytes, canonical
    metadata, caption bytes or None, document or None)}} for the ids among ``ids`` that it holds."""
    if COLLECTION not in db.collections():
        return {"exists": False, "len": 0, "records": {}, "collections": db.collections()}
    col = db.collection(COLLECTION)
    ids = sorted(ids)
    found = {}
    for start in range(0, len(ids), 4096):
        chunk = ids[start : start + 4096]
        for record_id, record in zip(chunk, col.get(chunk)):
            if record is None:
                continue
            if record.id != record_id:
                raise AssertionError(f"get({record_id!r}) returned a record with id {record.id!r}")
            vector = record.vector
            if vector.dtype != np.float32 or vector.shape != (DIM,):
                raise AssertionError(f"{record_id}: vector of dtype {vector.dtype}, shape {vector.shape}")
            caption = record.vectors.get(CAPTION)
            found[record_id] = (vector.tobytes(), canonical(record.metadata),
                                None if caption is None else caption.tobytes(), record.document)
    return {"exists": True, "len": len(col), "records": found, "collections": db.collections()}


def difference(held: dict, expected: Optional[dict]) -> Optional[str]:
    """None when ``held`` (read_records) equals ``expected`` (model records) bit for bit, else
    what differs."""
    if expected is None:
        if held["exists"] or held["collections"]:
            return f"expected no collection, found {held['collections']} ({held['len']} records)"
        return None
    if not held["exists"]:
        return f"expected collection {COLLECTION!r} with {len(expected)} records, found collections {held['collections']}"
    if held["collections"] != [COLLECTION]:
        return f"unexpected collections {held['collections']}"
    records = held["records"]
    problems = []
    if held["len"] != len(expected):
        problems.append(f"len() is {held['len']}, expected {len(expected)}")
    missing = [i for i in expected if i not in records]
    extra = [i for i in records if i not in expected]
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {sorted(missing)[:5]})")
    if extra:
        problems.append(f"{len(extra)} unexpected (e.g. {sorted(extra)[:5]})")
    bad_vectors, bad_meta, bad_captions, bad_documents = [], [], [], []
    for record_id, (vector, meta, caption, document) in expected.items():
        if record_id in records:
            if records[record_id][0] != vector:
                bad_vectors.append(record_id)
            if records[record_id][1] != canonical(meta):
                bad_meta.append(record_id)
            if records[record_id][2] != caption:
                bad_captions.append(record_id)
            if records[record_id][3] != document:
                bad_documents.append(record_id)
    if bad_vectors:
        problems.append(f"{len(bad_vectors)} vectors differ (e.g. {sorted(bad_vectors)[:5]})")
    if bad_captions:
        problems.append(f"{len(bad_captions)} captions differ (e.g. {sorted(bad_captions)[:5]})")
    if bad_documents:
        problems.append(f"{len(bad_documents)} documents differ (e.g. {sorted(bad_documents)[:5]})")
    if bad_meta:
        first = sorted(bad_meta)[0]
        problems.append(f"{len(bad_meta)} metadata differ (e.g. {first}: stored "
                        f"{records[first][1]}, expected {canonical(expected[first][1])})")
    return "; ".join(problems) or None


def match_state(db, seed: int, candidates) -> tuple[Optional[int], dict]:
    """Which of the states after ``candidates`` operations ``db`` holds: (k or None, {k: what
    differs})."""
    model = states_at(seed, candidates)
    held = read_records(db, model["ids"])
    differences = {}
    for k in sorted(model["states"]):
        diff = difference(held, model["states"][k])
        if diff is None:
            return k, {}
        differences[k] = diff
    return None, differences


# --- the writer process


def run_op(db, op: Op) -> Optional[str]:
    """Performs ``op``; returns an error message when its result is wrong."""
    if op.kind == "create":
        import omendb

        db.collection(COLLECTION, vectors={
            FIRST_FIELD: omendb.VectorField(DIM, "l2", ef_construction=EF_CONSTRUCTION),
            CAPTION: omendb.VectorField(CAPTION_DIM, "ip", ef_construction=EF_CONSTRUCTION),
        }, text=omendb.TextField(stemmer="english"))
        return None
    if op.kind == "checkpoint":
        db.checkpoint()
        return None
    col = db.collection(COLLECTION)
    vectors = {FIRST_FIELD: op.vectors}
    if op.captions is not None:
        vectors[CAPTION] = op.captions
    if op.kind == "add":
        col.add(op.ids, vectors, op.metadata, op.documents)
    elif op.kind == "upsert":
        col.upsert(op.ids, vectors, op.metadata, op.documents)
    elif op.kind == "delete":
        deleted = col.delete(op.ids)
        if deleted != op.deleted:
            return f"delete of op {op.index} returned {deleted}, expected {op.deleted}"
    return None


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("seed", type=int)
    parser.add_argument("--sync", default="full", choices=("full", "normal", "off"))
    parser.add_argument("--ops", type=int, default=DEFAULT_OPS, help="operations in all")
    parser.add_argument("--resume", help="comma-separated candidate states of the database")
    args = parser.parse_args(argv)

    import omendb

    say("opening")
    db = omendb.open(args.path, sync=args.sync, checkpoint_log_bytes=CHECKPOINT_LOG_BYTES)
    start = 0
    if args.resume:
        candidates = [int(k) for k in args.resume.split(",")]
        start, differences = match_state(db, args.seed, candidates)
        if start is None:
            say(f"error the reopened database holds none of the states {candidates}: {differences}")
            return 3
    say(f"opened {start}")
    workload = Workload(args.seed)
    while workload.count < start:
        workload.apply(workload.next_op())
    for i in range(start, args.ops):
        op = workload.next_op()
        say(f"begin {i} {op.kind}")
        problem = run_op(db, op)
        if problem:
            say(f"error {problem}")
            return 3
        say(f"ack {i}")
        workload.apply(op)
    db.close()
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
