"""Soak test: writers, deleters, searchers, checkpoints, compactions, a read-only handle and
reopen cycles, all at once, against a plain-Python model of the expected contents.

Usage: python tests/python/soak.py --minutes 30 [--seed 1] [--path DIR]
(``make soak MINUTES=30``; CI runs a short version through test_soak.py).

Each writer thread owns its ids ("w<writer>-<n>"), so its private model is exact: it adds, upserts
and deletes (by ids and by filter) and updates the model after each call returns; past a target
size it deletes as much as it adds, so the contents, and memory, stay about the same size. Every record's
vector is a function of (id, version) and its metadata names the id and version, so concurrent
readers can check every record they see for consistency without knowing the model. Every cycle
(a few seconds) the threads stop, the database is closed and reopened, and its whole contents must
equal the model, bit for bit. Resident memory is sampled at the start and the end.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import omendb

DIM = 16
WRITERS = 2
READERS = 2
TARGET_RECORDS = 5000  # per writer


def vector_of(id_: str, version: int) -> np.ndarray:
    """The vector a record (id, version) holds: a pure function, so readers can check it."""
    seed = (zlib.crc32(id_.encode()) * 1_000_003 + version) & 0xFFFFFFFF
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


def rss_mib() -> float:
    """Resident memory of this process now, in MiB (from /proc: ru_maxrss is only the peak)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


@dataclass
class Writer:
    """One writer thread's ids and what they must hold: id -> (version, doomed)."""

    number: int
    rng: random.Random
    model: dict = field(default_factory=dict)
    next_id: int = 0
    operations: int = 0

    def step(self, collection: omendb.Collection) -> None:
        """One random write, applied to the database, then to the model."""
        # Past TARGET_RECORDS the writer deletes more than it adds, so memory must stay flat.
        over = len(self.model) > TARGET_RECORDS
        roll = self.rng.random()
        if len(self.model) < 50 or roll < (0.15 if over else 0.5):
            self._write(collection, [self._new_id() for _ in range(self.rng.randint(1, 100))], upsert=False)
        elif roll < 0.65:
            ids = self.rng.sample(sorted(self.model), min(len(self.model), self.rng.randint(1, 30)))
            self._write(collection, ids, upsert=True)
        elif roll < 0.9:
            count = self.rng.randint(1, 100 if over else 20)
            ids = self.rng.sample(sorted(self.model), min(len(self.model), count))
            ids.append(f"w{self.number}-absent")
            deleted = collection.delete(ids)
            assert deleted == len(ids) - 1, (deleted, len(ids))
            for id_ in ids[:-1]:
                del self.model[id_]
        else:
            doomed = {id_ for id_, (_, is_doomed) in self.model.items() if is_doomed}
            deleted = collection.delete(where={"owner": self.number, "doomed": True})
            assert deleted == len(doomed), (deleted, len(doomed))
            for id_ in doomed:
                del self.model[id_]
        self.operations += 1

    def _new_id(self) -> str:
        self.next_id += 1
        return f"w{self.number}-{self.next_id}"

    def _write(self, collection: omendb.Collection, ids: list[str], upsert: bool) -> None:
        versions = [self.model.get(id_, (0, False))[0] + 1 for id_ in ids]
        doomed = [self.rng.random() < 0.2 for _ in ids]
        vectors = np.stack([vector_of(id_, v) for id_, v in zip(ids, versions)])
        metadata = [
            {"id": id_, "version": v, "owner": self.number, "doomed": d, "tags": ["soak", str(v % 3)]}
            for id_, v, d in zip(ids, versions, doomed)
        ]
        (collection.upsert if upsert else collection.add)(ids, vectors, metadata=metadata)
        for id_, v, d in zip(ids, versions, doomed):
            self.model[id_] = (v, d)


def check_record(id_: str, vector: np.ndarray, metadata: dict) -> None:
    """A record seen at any moment must be one that was written whole."""
    assert metadata["id"] == id_, (id_, metadata)
    expected = vector_of(id_, metadata["version"])
    assert vector.tobytes() == expected.tobytes(), id_


def check_contents(collection: omendb.Collection, writers: list[Writer]) -> int:
    """The collection holds exactly the union of the writers' models; returns the record count."""
    model = {id_: version for w in writers for id_, (version, _) in w.model.items()}
    assert len(collection) == len(model), (len(collection), len(model))
    ids = sorted(model)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for id_, record in zip(chunk, collection.get(chunk)):
            assert record is not None, id_
            assert record.metadata["version"] == model[id_], id_
            check_record(id_, record.vector, record.metadata)
    for w in writers:
        assert collection.count(where={"owner": w.number}) == len(w.model)
    return len(model)


def run_cycle(path: Path, writers: list[Writer], seconds: float, rng: random.Random, stats: dict) -> None:
    """Open the database, run every thread for `seconds`, stop them, close."""
    db = omendb.open(path, checkpoint_log_bytes=1 << 20)
    collection = db.collection("soak", dim=DIM)
    reader_db = omendb.open(path, read_only=True)
    stop = threading.Event()
    errors: list[BaseException] = []

    def guarded(work):
        def run():
            try:
                while not stop.is_set():
                    work()
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)
                stop.set()

        return threading.Thread(target=run)

    def search():
        query = np.random.default_rng(rng.randrange(2**32)).standard_normal(DIM).astype(np.float32)
        for hit in collection.search(query, k=10, ef=rng.choice([16, 64])):
            assert hit.metadata["id"] == hit.id, (hit.id, hit.metadata)
            expected = float(((query - vector_of(hit.id, hit.metadata["version"])) ** 2).sum())
            assert abs(hit.distance - expected) <= 1e-4 * max(1.0, expected), (hit, expected)
        stats["searches"] += 1

    def maintain():
        time.sleep(0.2)
        if rng.random() < 0.7:
            db.checkpoint()
            stats["checkpoints"] += 1
        else:
            collection.compact()
            stats["compactions"] += 1

    def read_only():
        time.sleep(0.1)
        reader_db.refresh()
        seen = reader_db.collection("soak")
        sample = seen.search(np.zeros(DIM, np.float32), k=5)
        for record in seen.get([hit.id for hit in sample]):
            if record is not None:
                check_record(record.id, record.vector, record.metadata)
        stats["refreshes"] += 1

    threads = [guarded(lambda w=w: w.step(collection)) for w in writers]
    threads += [guarded(search) for _ in range(READERS)]
    threads += [guarded(maintain), guarded(read_only)]
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    reader_db.close()
    db.close()
    if errors:
        raise errors[0]


def soak(path: Path, seconds: float, seed: int, cycle_seconds: float = 5.0) -> dict:
    """Runs cycles until `seconds` have passed; checks the contents after every reopen."""
    rng = random.Random(seed)
    writers = [Writer(number=i, rng=random.Random(seed * 100 + i)) for i in range(WRITERS)]
    stats = {"cycles": 0, "searches": 0, "checkpoints": 0, "compactions": 0, "refreshes": 0}
    stats["rss_start_mib"] = rss_mib()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_cycle(path, writers, min(cycle_seconds, max(0.5, deadline - time.monotonic())), rng, stats)
        with omendb.open(path) as db:
            stats["records"] = check_contents(db.collection("soak"), writers)
        stats["cycles"] += 1
        if stats["cycles"] % 10 == 0:
            print(f"  {stats['cycles']} cycles, {stats['records']:,} records, RSS {rss_mib():.0f} MiB", flush=True)
    stats["writes"] = sum(w.operations for w in writers)
    stats["rss_end_mib"] = rss_mib()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--path", help="database folder (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="omendb-soak-") as scratch:
        path = Path(args.path or scratch) / "soak.omendb"
        stats = soak(path, args.minutes * 60, args.seed)
    print("soak passed:", ", ".join(f"{key}={value:,.0f}" for key, value in stats.items()))


if __name__ == "__main__":
    main()
