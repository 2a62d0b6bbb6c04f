"""``omendb serve``: the command a user starts a server with (the server itself: test_server*.py).
A served folder takes writes from a client, SIGTERM stops it with exit status 0 and a closed
database, and its errors (a non-loopback host without a key, a locked folder) are one line with
exit status 1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import omendb

pytest.importorskip("click", reason="the CLI needs click: pip install 'omendb[cli]'")
pytest.importorskip("fastapi", reason="omendb serve needs fastapi: pip install 'omendb[server]'")
pytest.importorskip("uvicorn", reason="omendb serve needs uvicorn: pip install 'omendb[server]'")

from test_cli import run_module  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connect_when_up(url: str, process: subprocess.Popen, seconds: float = 60):
    """A client once the server answers; fails with the server's stderr if it exits first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return omendb.connect(url)
        except omendb.Error:
            if process.poll() is not None:
                pytest.fail(f"omendb serve exited with {process.returncode}: {process.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("omendb serve did not answer within a minute")
            time.sleep(0.1)


def test_serve_takes_writes_and_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "omendb", "serve", str(tmp_path / "db"), "--port", str(port),
                                "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        db = connect_when_up(f"http://127.0.0.1:{port}", process)
        docs = db.collection("docs", dim=4)
        vectors = np.eye(4, dtype=np.float32)
        docs.add(["a", "b", "c", "d"], vectors, [{"n": i} for i in range(4)])
        assert docs.search(vectors[2], k=1)[0].id == "c"
        db.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()
    with omendb.open(tmp_path / "db") as reopened:
        assert len(reopened.collection("docs")) == 4


def test_serve_errors_are_one_line(tmp_path):
    exposed = run_module("serve", tmp_path / "db", "--host", "0.0.0.0", "--port", free_port())
    assert exposed.returncode == 1 and len(exposed.stderr.strip().splitlines()) == 1, exposed.stderr
    assert "api" in exposed.stderr.lower() and "key" in exposed.stderr.lower()
    assert not (tmp_path / "db").exists()  # refused before anything was opened
    with omendb.open(tmp_path / "db"):  # another process holds the write lock
        locked = run_module("serve", tmp_path / "db", "--port", free_port())
    assert locked.returncode == 1 and "LockedError" in locked.stderr and len(locked.stderr.strip().splitlines()) == 1
