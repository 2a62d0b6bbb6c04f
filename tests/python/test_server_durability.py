"""The server under concurrency and signals, as a subprocess (``serve()``) on a folder:

- a SIGKILLed server loses no acknowledged write, applies each batch whole, and keeps each
  client's order (what a folder holds after the kill is the state after a prefix of every
  client's calls, at least as long as the calls it saw acknowledged);
- SIGTERM lets the requests in flight finish, closes the database (a final checkpoint: the log
  left holds no record) and exits 0;
- searches from many threads at once answer what the same searches answer one after another;
- bench/server_load.py runs (OmenDB only, tiny) with zero errors and a passing post-SIGKILL check.
"""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import omendb
import pytest
from omendb.client import TransportError
from omendb.server import codec

pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

REPOSITORY = Path(__file__).resolve().parents[2]
DIM = 8
LOG_FILE_HEADER = 16  # kFileHeaderSize in src/storage/log_format.h: a log holding no record


class ServerProcess:
    """``serve(path)`` in a subprocess on a free loopback port; its output goes to files next to
    ``path``. Starting waits (up to 60 s) until /health answers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.stderr_path = path.with_name(path.name + ".stderr")
        code = f"from omendb.server import serve; serve({str(path)!r}, port={port}, threads=2, log_level='warning')"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}: {self.stderr()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"the server did not answer within 60 s: {self.stderr()}")
            time.sleep(0.05)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    def accepts_connections(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Writer:
    """One client's calls on its own ids: adds of batches, and upserts and deletes of batches it
    added before; ``acked`` counts the calls that returned. The client stops at its first error
    (TransportError once the server is gone; anything else is kept in ``error``)."""

    name: str
    rng: np.random.Generator
    ops: list = field(default_factory=list)
    acked: int = 0
    error: BaseException | None = None

    def plan(self, count: int) -> None:
        """``count`` calls: mostly adds of 1-40 records, some upserts and deletes of earlier batches."""
        batches: list[list[str]] = []
        for number in range(count):
            roll = self.rng.random()
            if batches and roll < 0.15:
                self.ops.append(("delete", batches[int(self.rng.integers(len(batches)))], None))
            elif batches and roll < 0.3:
                ids = batches[int(self.rng.integers(len(batches)))]
                self.ops.append(("upsert", ids, self.rng.random((len(ids), DIM), dtype=np.float32)))
            else:
                ids = [f"{self.name}-b{number}-{i}" for i in range(int(self.rng.integers(1, 41)))]
                batches.append(ids)
                self.ops.append(("add", ids, self.rng.random((len(ids), DIM), dtype=np.float32)))

    def run(self, url: str) -> None:
        """Send the planned calls one after another until one fails."""
        try:
            client = omendb.connect(url, timeout=30)
            collection = client.collection("c")
            for kind, ids, vectors in self.ops:
                if kind == "add":
                    collection.add(ids, vectors, [{"w": self.name}] * len(ids))
                elif kind == "upsert":
                    collection.upsert(ids, vectors, [{"w": self.name}] * len(ids))
                else:
                    collection.delete(ids)
                self.acked += 1
        except TransportError:
            return
        except BaseException as error:  # a wrong answer from a live server  # noqa: BLE001
            self.error = error

    def state_after(self, calls: int) -> dict[str, np.ndarray]:
        """This client's records after its first ``calls`` calls: id -> vector."""
        state: dict[str, np.ndarray] = {}
        for kind, ids, vectors in self.ops[:calls]:
            for row, id_ in enumerate(ids):
                if kind == "delete":
                    state.pop(id_, None)
                elif kind == "upsert" or id_ not in state:
                    state[id_] = vectors[row]
        return state

    def all_ids(self) -> list[str]:
        return sorted({id_ for _, ids, _ in self.ops for id_ in ids})


def start_writers(server: ServerProcess, seed: int, clients: int) -> tuple[list[Writer], list[threading.Thread]]:
    """``clients`` writer threads on a fresh collection "c", started."""
    with omendb.connect(server.url) as client:
        client.collection("c", dim=DIM, metric="l2")
    writers = [Writer(f"s{seed}w{number}", np.random.default_rng([seed, number])) for number in range(clients)]
    threads = []
    for writer in writers:
        writer.plan(3000)
        threads.append(threading.Thread(target=writer.run, args=(server.url,), daemon=True))
        threads[-1].start()
    return writers, threads


def wait_for_acks(writers: list[Writer], count: int, server: ServerProcess) -> None:
    deadline = time.monotonic() + 60
    while sum(writer.acked for writer in writers) < count:
        assert time.monotonic() < deadline, f"writes too slow: {[w.acked for w in writers]}, {server.stderr()}"
        assert all(writer.error is None for writer in writers), [writer.error for writer in writers]
        time.sleep(0.01)


def check_recovered(path: Path, writers: list[Writer], others: int = 0) -> None:
    """The folder holds, for each writer, its state after ``acked`` or ``acked + 1`` calls (the
    one in flight when the server went may or may not have been applied, but whole), and
    ``others`` records besides."""
    for writer in writers:
        assert writer.error is None, f"{writer.name}: {writer.error!r}"
    with omendb.open(path) as database:
        collection = database.collection("c")
        total = 0
        for writer in writers:
            ids = writer.all_ids()
            found = {record.id: np.asarray(record.vector) for record in collection.get(ids) if record is not None}
            candidates = [writer.state_after(writer.acked), writer.state_after(writer.acked + 1)]
            assert any(_same(found, candidate) for candidate in candidates), (
                f"{writer.name}: {len(found)} records found, not the state after {writer.acked} acknowledged "
                f"calls ({len(candidates[0])} records) nor after one more ({len(candidates[1])})")
            total += len(found)
        assert len(collection) == total + others, "records that no writer wrote"


def _same(found: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> bool:
    return found.keys() == expected.keys() and all(np.array_equal(found[id_], expected[id_]) for id_ in found)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_loses_no_acknowledged_write_and_applies_batches_whole(tmp_path, seed):
    """Four clients write concurrently; the server is SIGKILLed at a seeded moment mid-run; the
    reopened folder holds every acknowledged call, each batch whole, in each client's order."""
    server = ServerProcess(tmp_path / "db")
    rng = random.Random(seed)
    writers, threads = start_writers(server, seed, clients=4)
    try:
        wait_for_acks(writers, rng.randint(10, 40), server)
        time.sleep(rng.uniform(0.0, 0.3))
    finally:
        server.kill()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a client hung after the server was killed"
    assert sum(writer.acked for writer in writers) >= 10
    check_recovered(tmp_path / "db", writers)


def test_sigterm_drains_requests_in_flight_and_closes_cleanly(tmp_path):
    """SIGTERM while clients write and one request's body is half sent: the server stops taking
    connections, the half-sent request completes (200) once its body arrives, the process exits 0,
    its log holds no record (a final checkpoint ran), and every acknowledged call is there."""
    server = ServerProcess(tmp_path / "db")
    writers, threads = start_writers(server, 7, clients=3)
    wait_for_acks(writers, 20, server)

    ids = [f"stream-{i}" for i in range(500)]
    vectors = np.random.default_rng(7).random((len(ids), DIM), dtype=np.float32)
    body = codec.encode_frame({"ids": ids}, vectors)
    first_half_sent, release = threading.Event(), threading.Event()
    answer: dict = {}

    def half_then_rest():
        yield body[: len(body) // 2]
        first_half_sent.set()
        release.wait(60)
        yield body[len(body) // 2:]

    def send_stream():
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                answer["response"] = http.post("/v1/collections/c/add", content=half_then_rest(),
                                               headers={"content-type": codec.FRAME_TYPE})
        except BaseException as error:  # noqa: BLE001
            answer["error"] = error

    streamer = threading.Thread(target=send_stream, daemon=True)
    streamer.start()
    assert first_half_sent.wait(30)
    time.sleep(0.1)  # the first half reaches the server
    server.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while server.accepts_connections():
        assert time.monotonic() < deadline, "the server still takes connections 30 s after SIGTERM"
        time.sleep(0.05)
    assert server.process.poll() is None, "the server exited with a request in flight"
    release.set()
    streamer.join(60)
    assert "error" not in answer, answer
    assert answer["response"].status_code == 200, answer["response"].text

    assert server.process.wait(60) == 0, server.stderr()
    assert "Traceback" not in server.stderr(), server.stderr()
    for thread in threads:
        thread.join(60)
    logs = sorted((tmp_path / "db").glob("wal-*"))
    assert [log.stat().st_size for log in logs] == [LOG_FILE_HEADER], "the log left holds records: no final checkpoint"
    check_recovered(tmp_path / "db", writers, others=len(ids))
    with omendb.open(tmp_path / "db", read_only=True) as database:
        found = database.collection("c").get(ids)
        assert all(record is not None for record in found)
        assert np.array_equal(np.stack([record.vector for record in found]), vectors)


@pytest.fixture(scope="module")
def search_server(tmp_path_factory):
    """A server on a folder holding "c": 3,000 x 16 l2 vectors with metadata {"g": i % 5}."""
    server = ServerProcess(tmp_path_factory.mktemp("search") / "db")
    vectors = np.random.default_rng(11).random((3000, 16), dtype=np.float32)
    with omendb.connect(server.url) as client:
        client.collection("c", dim=16, metric="l2").add(
            [f"r{i}" for i in range(len(vectors))], vectors, [{"g": i % 5} for i in range(len(vectors))])
        client.collection("other", dim=16, metric="l2")
    yield server
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(60)


def _answers(collection, queries: np.ndarray, order: list[int]) -> dict:
    """Each query's hits (ids and distances) unfiltered and filtered, and a search_batch of all."""
    answers = {}
    for index in order:
        answers[("plain", index)] = [(hit.id, hit.distance) for hit in collection.search(queries[index], k=10)]
        answers[("where", index)] = [(hit.id, hit.distance, hit.metadata)
                                     for hit in collection.search(queries[index], k=10, where={"g": 2})]
    ids, distances = collection.search_batch(queries, k=10)
    answers["batch"] = (ids.tolist() if hasattr(ids, "tolist") else ids, np.asarray(distances).tolist())
    return answers


def test_concurrent_searches_answer_what_sequential_ones_do(search_server):
    """Eight client threads search at once (in shuffled orders, while a ninth writes to another
    collection); each gets exactly the answers of the same searches run one after another."""
    queries = np.random.default_rng(12).random((60, 16), dtype=np.float32)
    with omendb.connect(search_server.url) as client:
        expected = _answers(client.collection("c"), queries, list(range(len(queries))))
    results: list = [None] * 8
    stop = threading.Event()

    def searcher(number: int) -> None:
        order = list(range(len(queries)))
        random.Random(number).shuffle(order)
        try:
            with omendb.connect(search_server.url) as own:
                results[number] = _answers(own.collection("c"), queries, order)
        except BaseException as error:  # noqa: BLE001
            results[number] = error

    def writer() -> None:
        rng = np.random.default_rng(13)
        with omendb.connect(search_server.url) as own:
            other, batch = own.collection("other"), 0
            while not stop.is_set():
                other.add([f"o{batch}-{i}" for i in range(50)], rng.random((50, 16), dtype=np.float32))
                batch += 1

    background = threading.Thread(target=writer, daemon=True)
    background.start()
    threads = [threading.Thread(target=searcher, args=(number,)) for number in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    stop.set()
    background.join(60)
    for number, result in enumerate(results):
        assert not isinstance(result, BaseException), f"searcher {number}: {result!r}"
        assert result == expected, f"searcher {number} got other answers"


def test_load_benchmark_runs_omendb_with_zero_errors(tmp_path):
    """bench/server_load.py, OmenDB only, tiny: it finishes, reports zero errors, and every write
    acknowledged before its mid-run SIGKILL is there after the restart."""
    report = tmp_path / "load.json"
    command = [sys.executable, str(REPOSITORY / "bench" / "server_load.py"), "--systems", "omendb", "--n", "2000",
               "--dim", "32", "--seconds", "3", "--clients", "2", "--repeats", "1", "--overhead-queries", "50",
               "--work", str(tmp_path / "work"), "--out", str(report)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(report.read_text())["systems"]["omendb"]
    assert result["load"]["errors"] == 0
    assert result["load"]["searches"] > 0 and result["load"]["writes"] > 0
    assert result["kill"]["passed"], result["kill"]
    assert result["kill"]["acknowledged"] > 0
