"""Shared fixtures: a fresh database of each backend (embedded, or served over HTTP by a test
server on 127.0.0.1), and the benchmark sets of ../shared/data (tests that need
one are skipped, saying where it was looked for, when it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import omendb
from data import MINILM_FILE, SIFTSMALL_FILES, Siftsmall, data_dir, load_minilm, load_siftsmall


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator, so every run draws the same data."""
    return np.random.default_rng(12345)


def _require_files(names: tuple[str, ...]) -> Path:
    """The data folder, or a skip naming the first file missing from it."""
    root = data_dir()
    for name in names:
        if not (root / name).is_file():
            pytest.skip(f"../shared/data not found: {root / name} is missing (set OMENDB_DATA_DIR to the data folder)")
    return root


@pytest.fixture(scope="session")
def siftsmall() -> Siftsmall:
    """ANN_SIFT10K with its ground truth."""
    return load_siftsmall(_require_files(SIFTSMALL_FILES))


@pytest.fixture(scope="session")
def minilm() -> np.ndarray:
    """The 2,641 x 384 MiniLM embeddings."""
    return load_minilm(_require_files((MINILM_FILE,)))


# --- the two backends: the embedded database and a server on 127.0.0.1 ---------------------------

BACKENDS = ["embedded", "server"]


def pytest_generate_tests(metafunc):
    """Tests of a module that sets ``SERVED = True`` and takes ``backend`` (through ``db`` or
    ``open_db``) run once per backend; elsewhere ``db`` stays the embedded in-memory database."""
    if "backend" in metafunc.fixturenames and getattr(metafunc.module, "SERVED", False):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "embedded_only(reason): the test is about the embedded database itself; its server case is skipped"
    )


class RunningServer:
    """An OmenDB server (uvicorn) in a thread of this process, on a free loopback port.

    path: the database it serves (":memory:" or a folder). Extra arguments go to create_app."""

    def __init__(self, path, **app_options) -> None:
        import socket
        import threading

        import uvicorn

        from omendb.server import create_app

        self.path = path
        self.database = omendb.open(path)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        config = uvicorn.Config(create_app(self.database, **app_options), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [listener]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"the test server for {path} did not start")
            self.thread.join(0.01)

    def connect(self, **options):
        """A fresh client of this server."""
        return omendb.connect(self.url, **options)

    def empty(self):
        """A client of this server after dropping every collection: a fresh database."""
        client = self.connect()
        for name in client.collections():
            client.drop_collection(name)
        return client

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.database.close()


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    """Session servers, started on first use: servers("memory") serves ":memory:", servers("disk")
    a folder. Each serves one test at a time: tests take them through ``RunningServer.empty``."""
    running: dict[str, RunningServer] = {}

    def server(kind: str) -> RunningServer:
        if kind not in running:
            running[kind] = RunningServer(":memory:" if kind == "memory" else tmp_path_factory.mktemp("server") / "db")
        return running[kind]

    yield server
    for each in running.values():
        each.stop()


@pytest.fixture
def backend(request) -> str:
    """ "embedded" or "server" (see pytest_generate_tests); a test marked embedded_only skips its
    server case, giving the reason."""
    kind = getattr(request, "param", "embedded")
    marker = request.node.get_closest_marker("embedded_only")
    if marker is not None and kind == "server":
        pytest.skip(f"embedded only: {marker.args[0] if marker.args else 'about the embedded database'}")
    return kind


@pytest.fixture
def open_db(backend, servers):
    """A factory of fresh, empty databases of the test's backend: omendb.open(":memory:") or a
    client of the in-memory test server after dropping every collection. Closed after the test."""
    opened = []

    def open_database():
        database = omendb.open(":memory:") if backend == "embedded" else servers("memory").empty()
        opened.append(database)
        return database

    yield open_database
    for database in opened:
        database.close()


@pytest.fixture
def db(open_db):
    """A fresh in-memory database (of each backend in a module with SERVED = True), closed after the test."""
    return open_db()


@pytest.fixture(scope="module")
def module_server():
    """A server of its own for one module's module-scoped fixtures (tests' ``db`` empties the
    shared one)."""
    server = RunningServer(":memory:")
    yield server
    server.stop()
